// Where `seeded` spends its forward passes: on seeds a reader can read (chooseSeeds), and on candidates that can
// move its objective (with `max`, edits at or before the member's peak token: a later token cannot change the peak),
// each distinct and none its member unchanged.
import { directEvaluator, type CandidateEvaluator } from '../src-main/dream/candidateBatch.js';
import { measureIds } from '../src-main/dream/hard.js';
import { peakPosition, withSwapSweep, type SweepEdit } from '../src-main/dream/fluent.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import type { HardEval } from '../src-main/dream/records.js';
import { dreamToEnd, runDream } from '../src-main/dream/run.js';
import type { DreamRequest } from '../src-main/dream/config.js';
import type { Dream } from '../src-main/dream/records.js';
import { countsAsDream, mostReadable, normaliseForCopy, readableChoices, SHOWN_DREAMS } from '../src-main/dream/yardstick.js';
import { dreamsThatBeat, readableVerdict } from '../src-main/cli/commands/dream.js';
import { chooseSeeds, SEED_CHOICE_FACTOR } from '../src-main/dream/seedChoice.js';
import { SEED_NEXT_TOKENS, SEEDED_SWEEP_SWAPS, seedWindows, type SeedSource, type SeedWindow } from '../src-main/dream/seeded.js';
import { seedPoolDocuments, seedSourceFrom } from '../src-main/dream/seedPool.js';
import { assessReadability, keepsSentenceForm } from '../src-main/readability/assess.js';
import { documentWords, wordsFromOutside } from '../src-main/readability/documentVocabulary.js';
import { alignWithDeletion, alignWithInsertion, INSERTABLE_WORDS, tokenEdits } from '../src-main/readability/insertions.js';
import { breakingTokens, breaksNoRepeat } from '../src-main/dream/beam.js';
import { textPieces } from '../src-main/readability/wordClasses.js';
import { brownTagLexicon, isAdjectiveTag, isDeletableTag, isVerbTag, keepsPartsOfSpeech } from '../src-main/readability/partOfSpeech.js';

/** What seeded's default edits leave as they are: verbs and adjectives. */
const fixedByDefault = (tag: string) => isVerbTag(tag) || isAdjectiveTag(tag);
import { loadShippedJudge } from '../src-main/readability/shipped.js';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { FIXTURE } from './helpers/shared.js';

let lm: LoadedModel;
beforeAll(async () => {
  await initBackend('wasm');
  lm = await loadModel(FIXTURE);
});
afterAll(() => lm?.model.dispose());
const fixture = () => lm;
/** The fixture with the shipped judge and a seed source over the first 8 Brown seed-pool documents, as most runs here use. */
async function brownSeeded() {
  const { model, tokenizer: tok } = lm;
  const { judge } = await loadShippedJudge(tok);
  const pool = (await seedPoolDocuments('brown', tok)).slice(0, 8);
  return { model, tok, judge, seedSource: seedSourceFrom(model, tok, pool, 200) };
}

/**
 * Member 0's candidates, step by step, while it holds its first seed unchanged: every candidate is measured, then
 * made worse than any member, so no member moves. Returns them in order, and that seed's tokens.
 */
async function firstMemberCandidates(setup: Awaited<ReturnType<typeof brownSeeded>>, req: DreamRequest): Promise<{ seen: number[][]; first: number[]; perStep: number[][][] }> {
  const { model, tok, judge, seedSource } = setup;
  const seen: number[][] = [];
  const perStep: number[][][] = [];
  let first: number[] | null = null;
  const direct = directEvaluator(model, tok);
  const recording: CandidateEvaluator = async (t, seqs, reduce, bases, owner, losses) => {
    first ??= bases[0];
    if (bases[0].join(',') === first.join(',')) {
      const step = seqs.filter((_, j) => owner[j] === 0);
      seen.push(...step);
      perStep.push(step);
    }
    const got = await direct(t, seqs, reduce, bases, owner, losses);
    return { ...got, evals: got.evals.map((e) => ({ ...e, value: -1e9 })) };
  };
  await dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource, candidateEvaluator: recording }, req));
  return { seen, first: first!, perStep };
}

const win = (text: string, value: number): SeedWindow => ({ ids: [], text, value, docId: 'd' });

it('chooseSeeds takes readable windows first, in value order, and fills with the others; without a test, the top ones', () => {
  const ws = [win('a', 9), win('B', 8), win('c', 7), win('D', 6), win('e', 5)];
  const readable = (t: string) => t === t.toUpperCase();
  const texts = (list: SeedWindow[]) => list.map((w) => w.text);
  expect(texts(chooseSeeds(ws, 2, readable).seeds)).toEqual(['B', 'D']);
  expect(texts(chooseSeeds(ws, 4, readable).seeds)).toEqual(['B', 'D', 'a', 'c']);
  expect(texts(chooseSeeds(ws, 3, undefined).seeds)).toEqual(['a', 'B', 'c']);
  expect(chooseSeeds(ws, 9, readable).seeds).toHaveLength(5);
  // The reserve: the readable windows left, in value order; without a test, every window left.
  const more = [...ws, win('F', 4)];
  expect(texts(chooseSeeds(more, 2, readable).reserve)).toEqual(['F']);
  expect(chooseSeeds(more, 4, readable).reserve).toEqual([]);
  expect(texts(chooseSeeds(more, 3, undefined).reserve)).toEqual(['D', 'e', 'F']);
  // Each window's readability is asked once.
  let asked = 0;
  chooseSeeds(more, 2, (t) => (asked++, readable(t)));
  expect(asked).toBe(more.length);
});

it('peakPosition is the first position of the highest value; a re-tokenised length that differs counts every position', () => {
  const e = (perToken: number[]) => ({ perToken }) as HardEval;
  expect(peakPosition(e([1, 5, 2, 5]), [0, 0, 0, 0])).toBe(1);
  expect(peakPosition(e([7, 1, 2]), [0, 0, 0])).toBe(0);
  expect(peakPosition(e([1, 2]), [0, 0, 0])).toBe(2);
});

it('seeded starts from readable seeds and draws distinct candidates, mostly at or before each member\'s peak', async () => {
  const { model, tokenizer: tok } = fixture();
  const { judge } = await loadShippedJudge(tok);
  const pool = (await seedPoolDocuments('brown', tok)).slice(0, 8);
  const source = seedSourceFrom(model, tok, pool, 200);
  const asked: number[] = [];
  const seedSource: SeedSource = (...args) => (asked.push(args[3]), source(...args));
  const target = neuronTarget(1, 7);
  const batch = 4;
  const candidates = 8;
  const direct = directEvaluator(model, tok);
  // Over candidates of members whose peak is before their last token: how many sit at or before it, and how many
  // would by chance (uniform positions: (peak + 1) / length).
  let drawn = 0;
  let early = 0;
  let atOrBeforePeak = 0;
  let byChance = 0;
  const rounds: number[][] = [];
  const recording: CandidateEvaluator = async (t, seqs, reduce, bases, owner, losses) => {
    const peaks = (await measureIds(model, tok, t, bases, reduce)).map((e, i) => peakPosition(e, bases[i]));
    const perMember = bases.map(() => new Set<string>());
    seqs.forEach((s, j) => {
      const base = bases[owner[j]];
      const at = s.findIndex((x, p) => x !== base[p]);
      expect(at, 'a candidate differs from its member').toBeGreaterThanOrEqual(0);
      expect(perMember[owner[j]].has(s.join(',')), 'a candidate drawn twice in one step').toBe(false);
      perMember[owner[j]].add(s.join(','));
      drawn++;
      const peak = peaks[owner[j]];
      if (peak === base.length - 1) return;
      early++;
      if (at <= peak) atOrBeforePeak++;
      byChance += (peak + 1) / base.length;
    });
    rounds.push(perMember.map((m) => m.size));
    return direct(t, seqs, reduce, bases, owner, losses);
  };
  // Insertions drawn at random (the default): a sweep (--insert-order sweep) tries every position, the peak's or not.
  const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 4, every: 1, seqLen: 8, batch, candidates, seedEdits: 'any' as const, editCheck: 'form' as const, insertOrder: 'random' as const, reduce: 'max' as const };
  const res = await dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource, candidateEvaluator: recording }, req));

  // Seeds: asked for more than it keeps, and the readable ones among them first.
  expect(asked).toEqual([batch * SEED_CHOICE_FACTOR]);
  const { seeds: offered } = await source(target, 'max', 8, batch * SEED_CHOICE_FACTOR);
  const readable = offered.filter((w) => assessReadability(judge, w.text).readable).map((w) => w.text);
  expect(readable.length).toBeGreaterThan(0);
  const used = [...new Set(res.initial.map((d) => d.origin!.seedText))];
  expect(used.slice(0, Math.min(batch, readable.length))).toEqual(readable.slice(0, batch));

  // Candidates: at most `candidates` per member per step, distinct, most of the places filled; with `max`, three
  // quarters are drawn at or before the peak and the rest land there by chance.
  expect(rounds.length).toBeGreaterThan(2);
  for (const r of rounds) for (const n of r) expect(n).toBeLessThanOrEqual(candidates);
  expect(drawn).toBeGreaterThan(0.75 * rounds.length * batch * candidates);
  expect(early).toBeGreaterThan(20);
  expect(atOrBeforePeak / early).toBeGreaterThan(0.75 + 0.25 * (byChance / early) - 0.1);
  expect(atOrBeforePeak / early).toBeGreaterThan(byChance / early + 0.2);
});

it('a seeded member whose search stops moving takes up the next readable seed; every dream stays within its own seed\'s edits; no tensor is left', async () => {
  const { model, tok, judge, seedSource } = await brownSeeded();
  const batch = 2;
  const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 12, every: 1, seqLen: 8, batch, candidates: 4, maxEdits: 1, seedEdits: 'any' as const, reduce: 'max' as const };
  const records: { label: string; seed: string; edits: number; text: string }[][] = [];
  await seedSource(neuronTarget(1, 7), 'max', 8, batch * SEED_CHOICE_FACTOR); // the scan, before counting tensors
  const tensors = tf.memory().numTensors;
  await dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource }, req), (r) =>
    records.push(r.dreams.map((d) => ({ label: d.label, seed: d.origin!.seedText, edits: d.origin!.edits, text: d.text }))),
  );
  // Nothing left behind by a run whose members started afresh.
  expect(tf.memory().numTensors).toBe(tensors);
  const { seeds: offered } = await seedSource(neuronTarget(1, 7), 'max', 8, batch * SEED_CHOICE_FACTOR);
  const readable = offered.filter((w) => assessReadability(judge, w.text).readable).map((w) => w.text);
  expect(readable.length).toBeGreaterThan(batch);
  const held = [...new Set(records.flat().map((d) => d.seed))];
  // With one edit allowed, members run out of moves within a few steps and move on, in the reserve's order.
  expect(held.length).toBeGreaterThan(batch);
  expect(readable.slice(0, held.length)).toEqual(expect.arrayContaining(held));
  for (const d of records.flat()) {
    expect(d.edits).toBeLessThanOrEqual(1);
    expect(d.label).toMatch(/^seed \d+ λ=/);
    // The label names the seed the member holds: the same label, the same seed.
    expect(records.flat().filter((e) => e.label === d.label).every((e) => e.seed === d.seed)).toBe(true);
  }
});

it('with --edit-check readable (the default) every edited dream passes the readability rule beside its seed; with form, some do not; without the judge it says what to do', async () => {
  const { model, tok, judge, seedSource } = await brownSeeded();
  const edited = async (editCheck?: 'readable' | 'form') => {
    const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 6, every: 1, seqLen: 8, batch: 4, candidates: 8, seedEdits: 'any' as const, ...(editCheck ? { editCheck } : {}) };
    const dreams: { text: string; seed: string; next?: string; lift: number }[] = [];
    await dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource }, req), (r) => r.dreams.forEach((d) => d.origin!.edits > 0 && dreams.push({ text: d.text, seed: d.origin!.seedText, next: d.origin!.seedNext, lift: d.value - d.origin!.seedValue })));
    return dreams;
  };
  const kept = await edited();
  expect(kept.length).toBeGreaterThan(0);
  // The default search still raises the hard activation above its start.
  expect(Math.max(...kept.map((d) => d.lift))).toBeGreaterThan(0);
  for (const d of kept) expect(assessReadability(judge, d.text, { seedText: d.seed, seedNext: d.next }).readable, d.text).toBe(true);
  expect((await edited('form')).some((d) => !assessReadability(judge, d.text, { seedText: d.seed, seedNext: d.next }).readable)).toBe(true);
  const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 1, seqLen: 8, batch: 2 };
  await expect(dreamToEnd(runDream({ model, tokenizer: tok, seedSource }, req))).rejects.toThrow(/--edit-check readable needs the readability judge.*--edit-check form/);
});

it("with --edit-vocabulary document every word a dream swaps in is one its seed's document uses; with any (the default), some are not; a seed source without document words is refused with the fix", async () => {
  const { model, tok, judge, seedSource } = await brownSeeded();
  const pool = (await seedPoolDocuments('brown', tok)).slice(0, 8);
  const wordsOf = new Map(pool.map((d) => [d.id, documentWords(tok.decode(d.ids))]));
  const outside = async (editVocabulary?: 'document' | 'any') => {
    // Swaps of any word, checked for form only: the widest search, so that "any" has words from elsewhere to take.
    const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 6, every: 1, seqLen: 8, batch: 4, candidates: 8, seedEdits: 'any' as const, editCheck: 'form' as const, insertOrder: 'random' as const, ...(editVocabulary ? { editVocabulary } : {}) };
    const found: string[][] = [];
    let edited = 0;
    await dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource }, req), (r) =>
      r.dreams.forEach((d) => {
        if (!d.origin || d.origin.edits === 0) return;
        edited++;
        found.push(wordsFromOutside(wordsOf.get(d.origin.seedDoc)!, d.origin.seedText, d.text, d.origin.seedNext));
      }),
    );
    return { edited, outside: found.filter((w) => w.length) };
  };
  const fromDocument = await outside('document');
  expect(fromDocument.edited).toBeGreaterThan(0);
  expect(fromDocument.outside).toEqual([]);
  expect((await outside()).outside.length).toBeGreaterThan(0);
  const bare: SeedSource = async (...args) => {
    const got = await seedSource(...args);
    return { ...got, seeds: got.seeds.map(({ docWords: _, ...w }) => w) };
  };
  const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 1, seqLen: 8, batch: 2, editVocabulary: 'document' as const };
  await expect(dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource: bare }, req))).rejects.toThrow(/--edit-vocabulary document needs each seed's document words.*--edit-vocabulary any/);
});

it('with --insert-order sweep, a member tries every insertion its seed allows before any other edit, each once; drawn at random it tries fewer', async () => {
  const setup = await brownSeeded();
  const { tok } = setup;
  const insertIds = INSERTABLE_WORDS.map((w) => tok.encode(` ${w}`)).filter((ids) => ids.length === 1).map((ids) => ids[0]);
  // The insertion of one plain word into `base` that gives `s` (the last token pushed out), or null.
  const insertionOf = (base: number[], s: number[]) => {
    for (let t = 1; t < base.length; t++) if (insertIds.includes(s[t]) && s.every((x, p) => (p < t ? x === base[p] : p === t || x === base[p - 1]))) return `${t}:${s[t]}`;
    return null;
  };
  const run = async (insertOrder: 'sweep' | 'random') => {
    const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 20, every: 1, seqLen: 8, batch: 2, candidates: 16, maxEdits: 2, seedEdits: 'any' as const, editCheck: 'form' as const, deleteWords: 'none' as const, editVocabulary: 'any' as const, insertOrder };
    const { seen, first } = await firstMemberCandidates(setup, req);
    return { seen: seen.map((s) => ({ insertion: insertionOf(first, s), key: s.join(',') })), first };
  };
  const { seen, first } = await run('sweep');
  // Every insertion the search's own checks let through (the sentence's form, no repeated word or bigram).
  const allowed = new Set<string>();
  for (let t = 1; t < first.length; t++) {
    for (const w of insertIds) {
      const s = [...first.slice(0, t), w, ...first.slice(t, first.length - 1)];
      const text = tok.decode(s);
      if (keepsSentenceForm(text) && !breaksNoRepeat(text)) allowed.add(`${t}:${w}`);
    }
  }
  expect(allowed.size).toBeGreaterThan(8);
  // Its first candidates are those insertions, each once; only then come other edits (or insertions drawn again at random).
  const swept = seen.slice(0, allowed.size).map((c) => c.insertion);
  expect(seen.length).toBeGreaterThan(allowed.size);
  expect(swept).not.toContain(null);
  expect(new Set(swept)).toEqual(allowed);
  const random = (await run('random')).seen.filter((c) => c.insertion !== null);
  expect(new Set(random.map((c) => c.insertion)).size).toBeLessThan(allowed.size);
});

it('withSwapSweep orders a sweep by rounds of rank over the positions, those at or before the peak first, proposals before plausible tokens, insertions alternating', () => {
  const ids = [10, 11, 12, 13];
  // Position 1 proposes 20, 21; position 2 proposes 22 and finds 23, 12 (its own token) and 22 again plausible; position 3: 24.
  const options = [[99], [20, 21], [22], [24]];
  const plausible = [[98], [21], [23, 12, 22], []];
  const order = (sweep: SweepEdit[]) => sweep.slice().reverse();
  // Peak at 2: positions 1 and 2 first in each round.
  expect(order(withSwapSweep([], ids, options, plausible, 2))).toEqual([
    ['swap', 1, 20], ['swap', 2, 22], ['swap', 3, 24],
    ['swap', 1, 21], ['swap', 2, 23],
  ]);
  // Peak at 1: position 1, then 2 and 3; the insertions already there (a stack: next last) alternate with the swaps.
  const inserts: SweepEdit[] = [['insert', 2, 7], ['insert', 1, 6]];
  expect(order(withSwapSweep(inserts, ids, options, plausible, 1))).toEqual([
    ['swap', 1, 20], ['insert', 1, 6], ['swap', 2, 22], ['insert', 2, 7], ['swap', 3, 24],
    ['swap', 1, 21], ['swap', 2, 23],
  ]);
});

it('with --swap-order sweep, a member first tries, at each position, every one of the likeliest tokens the model gives there and nothing but swaps, each once; drawn at random it tries fewer', async () => {
  const setup = await brownSeeded();
  const { model, tok } = setup;
  const run = async (swapOrder: 'sweep' | 'random') => {
    const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 40, every: 1, seqLen: 8, batch: 2, candidates: 16, maxEdits: 2, seedEdits: 'any' as const, editCheck: 'form' as const, insertWords: 'none' as const, deleteWords: 'none' as const, swapOrder };
    const { seen, first } = await firstMemberCandidates(setup, req);
    return { seen: seen.map((s) => s.join(',')), first };
  };
  const { seen, first } = await run('sweep');
  // The model's next-token distribution after each prefix of the seed (BOS first), read here in plain numbers: at each
  // position, the likeliest tokens inside the top-p mass seeded searches in (0.9), breaking tokens left out.
  const banned = breakingTokens(model, tok);
  const logits = tf.tidy(() => model.run({ ids: tf.tensor2d([[model.config.bosTokenId, ...first]], [1, first.length + 1], 'int32') }, {}).logits!.squeeze([0]));
  const rows = (await logits.array()) as number[][];
  logits.dispose();
  const allowed = new Set<string>();
  for (let t = 1; t < first.length; t++) {
    const row = rows[t];
    const top = Math.max(...row);
    const z = row.reduce((a, x) => a + Math.exp(x - top), 0);
    const order = row.map((x, id) => ({ id, p: Math.exp(x - top) / z })).sort((a, b) => b.p - a.p);
    const nucleus: number[] = [];
    let mass = 0;
    for (const { id, p } of order) {
      nucleus.push(id);
      mass += p;
      if (mass >= 0.9 || nucleus.length === 512) break;
    }
    for (const w of nucleus.filter((id) => !banned.has(id)).slice(0, SEEDED_SWEEP_SWAPS)) {
      if (w === first[t]) continue;
      const s = first.map((x, p) => (p === t ? w : x));
      const text = tok.decode(s);
      if (keepsSentenceForm(text) && !breaksNoRepeat(text)) allowed.add(s.join(','));
    }
  }
  expect(allowed.size).toBeGreaterThan(50);
  // Its first candidates hold every one of those swaps, each once, and nothing but single swaps of the seed: at most
  // the gradient's proposals (--top-k, 24 a position) besides them, before the last of them is tried.
  const end = Math.max(...[...allowed].map((k) => seen.indexOf(k)));
  expect(end).toBeGreaterThanOrEqual(0);
  const swept = seen.slice(0, end + 1);
  expect(new Set(swept).size).toBe(swept.length);
  for (const k of swept) {
    const s = k.split(',').map(Number);
    expect(s.length === first.length && s.filter((x, p) => x !== first[p]).length).toBe(1);
  }
  expect(swept.length).toBeLessThanOrEqual(allowed.size + 24 * (first.length - 1));
  // Drawn at random (among the gradient's proposals), far fewer of them are tried in as many steps.
  const random = (await run('random')).seen.filter((k) => allowed.has(k));
  expect(new Set(random).size).toBeLessThan(allowed.size / 2);
});

it('with --swap-order mixed, the sweep takes half of each step\'s candidates, in the sweep\'s order, and the random draw the rest', async () => {
  const setup = await brownSeeded();
  const run = async (swapOrder: 'sweep' | 'mixed') => {
    const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 2, every: 1, seqLen: 8, batch: 2, candidates: 16, maxEdits: 2, seedEdits: 'any' as const, editCheck: 'form' as const, insertWords: 'none' as const, deleteWords: 'none' as const, swapOrder };
    return (await firstMemberCandidates(setup, req)).perStep.map((step) => step.map((s) => s.join(',')));
  };
  const sweep = await run('sweep');
  const mixed = await run('mixed');
  expect(sweep[0]).toHaveLength(16);
  // Each step: eight from the sweep, where the sweep alone would have taken sixteen (its first step's second half comes
  // in the second step), then draws among the gradient's proposals; no candidate twice in a step.
  expect(mixed[0].slice(0, 8)).toEqual(sweep[0].slice(0, 8));
  expect(mixed[1].slice(0, 8)).toEqual(sweep[0].slice(8, 16));
  for (const step of mixed.slice(0, 2)) {
    expect(step.length).toBeGreaterThan(8);
    expect(step.length).toBeLessThanOrEqual(16);
    expect(new Set(step).size).toBe(step.length);
  }
});

it('with --insert-words plain, seeded also inserts plain words: each dream within its edits counted with insertions, readable beside its seed, some raising the hard activation', async () => {
  const { model, tok, judge, seedSource } = await brownSeeded();
  const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 8, every: 1, seqLen: 8, batch: 4, candidates: 8, maxEdits: 2, insertWords: 'plain' as const, deleteWords: 'none' as const };
  const dreams: Dream[] = [];
  await dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource }, req), (r) => dreams.push(...r.dreams.filter((d) => d.origin!.edits > 0)));
  expect(dreams.length).toBeGreaterThan(0);
  // A dream holds an insertion when lining it up with one inserted word takes no more edits than word by word.
  const holdsInsertion = (seed: string, text: string) => {
    const [a, b] = [textPieces(seed), textPieces(text)];
    const aligned = alignWithInsertion(a, b);
    return aligned !== null && (a.length !== b.length || 1 + aligned.swaps.length <= a.filter((w, i) => w !== b[i]).length);
  };
  const inserted = dreams.filter((d) => holdsInsertion(d.origin!.seedText, d.text));
  expect(inserted.length, 'no dream holds an inserted word').toBeGreaterThan(0);
  for (const d of dreams) {
    expect(d.origin!.edits).toBeLessThanOrEqual(2);
    expect(assessReadability(judge, d.text, { seedText: d.origin!.seedText, seedNext: d.origin!.seedNext }).readable, d.text).toBe(true);
  }
  // Counted as the search counts it: an insertion is one token edit, not every token it shifted.
  const seedIds = (text: string) => tok.encode(text);
  for (const d of inserted) expect(tokenEdits(seedIds(d.origin!.seedText), tok.encode(d.text), 2)).toBe(d.origin!.edits);
  expect(Math.max(...dreams.map((d) => d.value - d.origin!.seedValue))).toBeGreaterThan(0);
});

it('with --delete-words modifiers (the default), seeded also deletes adjectives and adverbs, pulling in the next words of the seed\'s document: each such dream lined up with its seed, readable and counted as one edit per deletion', async () => {
  const { model, tok, judge, seedSource } = await brownSeeded();
  const lex = await brownTagLexicon();
  const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 10, every: 1, seqLen: 8, batch: 4, candidates: 12, maxEdits: 2, insertWords: 'none' as const };
  const dreams: Dream[] = [];
  await dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource }, req), (r) => dreams.push(...r.dreams.filter((d) => d.origin!.edits > 0)));
  expect(dreams.length).toBeGreaterThan(0);
  // Every seed carries the words after it (none of the fixture's seed windows ends its document).
  expect(dreams.every((d) => (d.origin!.seedNext ?? '').length > 0)).toBe(true);
  const deleted = dreams.filter((d) => {
    const [a, b] = [textPieces(d.origin!.seedText), textPieces(d.text)];
    const aligned = alignWithDeletion(a, textPieces(d.origin!.seedText + d.origin!.seedNext), b);
    return aligned !== null && 1 + aligned.swaps.length < a.filter((w, i) => w !== b[i]).length;
  });
  expect(deleted.length, 'no dream holds a deleted word').toBeGreaterThan(0);
  for (const d of dreams) {
    const o = d.origin!;
    expect(o.edits).toBeLessThanOrEqual(2);
    expect(assessReadability(judge, d.text, { seedText: o.seedText, seedNext: o.seedNext }).readable, d.text).toBe(true);
    expect(keepsPartsOfSpeech(lex, o.seedText, d.text, fixedByDefault, false, o.seedNext), `${o.seedText} → ${d.text}`).toBe(true);
  }
  // The deleted word is a modifier, and the edit count is the token edit distance from the seed run on.
  for (const d of deleted) {
    const o = d.origin!;
    const a = textPieces(o.seedText);
    const { deleted: at } = alignWithDeletion(a, textPieces(o.seedText + o.seedNext), textPieces(d.text))!;
    expect(isDeletableTag(lex.tagOf(a[at])!), a[at]).toBe(true);
    const next = tok.encode(o.seedNext!);
    expect(tokenEdits([...tok.encode(o.seedText), ...next], tok.encode(d.text), 2 + next.length)).toBe(o.edits);
  }
});

it('seed windows start where a sentence starts, not after an initial or a title', () => {
  const { tokenizer: tok } = fixture();
  const text = 'He met Mr. Ward at Peking on the way. The A.M.A. Board met in June. It rained all day long at home.';
  const starts = seedWindows([{ id: 'd', ids: tok.encode(text) }], tok, 3, 100).map((w) => w.text.trim().split(/[\s.]/)[0]);
  expect(starts).toEqual(['He', 'The', 'It']);
});

it('each seed window carries the next tokens of its document, up to SEED_NEXT_TOKENS and never past a line break', () => {
  const { tokenizer: tok } = fixture();
  const ids = tok.encode('It rained all day. He sat at home.\nThe end came. So it was');
  const windows = seedWindows([{ id: 'd', ids }], tok, 3, 100);
  const next = (text: string) => windows.find((w) => w.text === text)!.next.map((id) => tok.decode([id])).join('');
  // (The fixture's tokenizer splits " rained" in two; the line break ends no sentence, so "The end" starts none.)
  expect(windows.map((w) => w.text)).toEqual(['It rained', ' He sat at', ' So it was']);
  expect(next('It rained')).toBe(' all day.');
  // Cut at the line break: only " home." follows in the same run of prose.
  expect(next(' He sat at')).toBe(' home.');
  // The document's end: nothing follows.
  expect(next(' So it was')).toBe('');
});

it("seeded's default edits keep each word's part of speech and leave verbs and adjectives as they are", async () => {
  const { model, tokenizer: tok } = fixture();
  const { judge } = await loadShippedJudge(tok);
  const lex = await brownTagLexicon();
  const pool = (await seedPoolDocuments('brown', tok)).slice(0, 8);
  const seedSource = seedSourceFrom(model, tok, pool, 200);
  const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 6, every: 1, seqLen: 8, batch: 4, candidates: 8, editCheck: 'form' as const };
  const edited: { text: string; seed: string; next?: string }[] = [];
  await dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource }, req), (r) => r.dreams.forEach((d) => d.origin!.edits > 0 && edited.push({ text: d.text, seed: d.origin!.seedText, next: d.origin!.seedNext })));
  expect(edited.length).toBeGreaterThan(0);
  for (const d of edited) expect(keepsPartsOfSpeech(lex, d.seed, d.text, fixedByDefault, true, d.next), `${d.seed} → ${d.text}`).toBe(true);
});

it("the CLI's verdict over a seeded run shows the dreams it would pick from every dream the run recorded", async () => {
  const { model, tok, judge, seedSource } = await brownSeeded();
  const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 10, every: 1, seqLen: 8, batch: 4, candidates: 8, maxEdits: 3, seedEdits: 'any' as const };
  const seen: Dream[] = [];
  const res = await dreamToEnd(runDream({ model, tokenizer: tok, judge, seedSource }, req), (r) => seen.push(...r.dreams));
  const corpus = normaliseForCopy('');
  const counted = seen.filter((d) => countsAsDream(d, corpus));
  expect(new Set(counted.map((d) => d.origin!.edits)).size).toBeGreaterThan(1);
  // As the CLI calls it: the dreams that beat the maximum, then the verdict over them.
  const verdictAt = (max: number) => readableVerdict(res, dreamsThatBeat(res, { max, corpus }));
  // Every counted value as the maximum to beat: the verdict's pick ranks as the best pick among all recorded dreams.
  for (const max of new Set(counted.map((d) => d.value))) {
    const want = mostReadable(counted.filter((d) => d.value >= max))!;
    const got = verdictAt(max).beats;
    expect(got, `max ${max}`).not.toBeNull();
    expect([got!.origin!.edits, got!.readability!.percentile]).toEqual([want.origin!.edits, want.readability!.percentile]);
    // And the next seeds' dreams it shows rank as those among all recorded dreams do, each from another seed.
    const wantAll = readableChoices(counted.filter((d) => d.value >= max), SHOWN_DREAMS);
    const gotAll = [got!, ...verdictAt(max).others];
    // (By rank: dreams of two seeds may tie on edits and percentile.)
    const rankOf = (d: Dream) => [d.origin!.edits, d.readability!.percentile];
    expect(gotAll.map(rankOf), `max ${max}`).toEqual(wantAll.map(rankOf));
    expect(new Set(gotAll.map((d) => `${d.origin!.seedDoc} ${d.origin!.seedText}`)).size).toBe(gotAll.length);
  }
  // Some maximum leaves more than one seed to show.
  expect(Math.max(...[...new Set(counted.map((d) => d.value))].map((max) => verdictAt(max).others.length))).toBeGreaterThan(0);
});
