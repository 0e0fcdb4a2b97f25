// `seeded`: corpus-seeded editing. Start from the seed pool's windows that activate the target most (real text the
// readability judge never counted, readability/splits.ts) and make at most `maxEdits` single-token edits, each among
// the model's own top-p next tokens and proposed by the activation's gradient, that raise value − λ·CE − ρ·repeats
// and keep the sentence's form (readability/assess.ts keepsSentenceForm) and, by default, its grammar: a word is
// swapped only for one of the same part of speech (readability/partOfSpeech.ts).
// A dream that is a real sentence plus two edits is readable, and shows what change drives the neuron: every
// dream carries its seed, its edit count and its lift over the seed.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { hookName, parseHookName } from '../model/hooks.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { breakingTokens, searchScore, type JudgeTerm } from './beam.js';
import type { DreamConfig, Reduce } from './config.js';
import { hamming, substitutionSearch } from './fluent.js';
import type { CandidateEvaluator } from './candidateBatch.js';
import type { DreamMethod } from './method.js';
import type { Objective, Target } from './objectives.js';
import type { DreamOrigin } from './records.js';
import { keepsSentenceForm, startsAsSentence } from '../readability/assess.js';
import { keepsPartsOfSpeech, type TagLexicon } from '../readability/partOfSpeech.js';
import { tokenEdits } from '../readability/insertions.js';

export interface SeedWindow {
  ids: number[];
  /** The window's ids decoded (what its edits are judged against). */
  text: string;
  /** The target's hard value on the window. */
  value: number;
  docId: string;
  /** The tokens that follow the window in its document (up to SEED_NEXT_TOKENS, none past a line break): what a deletion pulls in. */
  next?: number[];
  /** The words of the window's document (readability/documentVocabulary.ts): what `--edit-vocabulary document` swaps in. */
  docWords?: ReadonlySet<string>;
}

/** Tokens of each seed window's document continuation kept for deletions (seeded may delete at most its edit count). */
export const SEED_NEXT_TOKENS = 3;

/** Where seeds come from: the `count` best windows of `seqLen` tokens for a target, and the forward passes that cost. */
export type SeedSource = (target: Target, reduce: Reduce, seqLen: number, count: number) => Promise<{ seeds: SeedWindow[]; cost: number }>;

/**
 * A period that ends an initial or a title, not a sentence: "A.M.A." would otherwise give the seed "A., offer any
 * solution", and "Mr. Ward at Peking" the seed "Ward at Peking".
 */
const ABBREVIATION_END = /(?:^|[^\p{L}])(?:\p{Lu}|Mr|Mrs|Ms|Messrs|Dr|St|Mt|Ft|Gen|Col|Maj|Capt|Lt|Sgt|Adm|Gov|Sen|Rep|Rev|Hon|Prof|Jr|Sr|Co|Corp|Inc|Ltd|Bros|No|Nos|Vol|Fig|Art|Sec|vs)\.$/u;

/** What ends a run of prose: a line break or <|endoftext|> (no seed window holds one, nor the text after it). */
const PROSE_BREAK = /[\r\n]|<\|endoftext\|>/;

/**
 * Candidate windows of a seed pool: `seqLen` tokens starting where a sentence starts (a word with a capital, a digit
 * or an opening quote, at the document's start or after . ! or ? that ends no initial or title), inside one
 * document, holding no line break or <|endoftext|> and in the sentence form a dream must keep (keepsSentenceForm);
 * at most `maxWindows`, spread evenly, each with its decoded text. A dream is read as a text of its own, so its seed
 * starts as one does (readability/assess.ts asks the same of every dream).
 */
export function seedWindows(docs: { id: string; ids: number[] }[], tok: TextTokenizer, seqLen: number, maxWindows: number): { ids: number[]; docId: string; text: string; next: number[] }[] {
  const out: { ids: number[]; docId: string; text: string; next: number[] }[] = [];
  const memo = (test: (text: string) => boolean) => {
    const cache = new Map<number, boolean>();
    return (id: number) => {
      let v = cache.get(id);
      if (v === undefined) cache.set(id, (v = test(tok.decode([id]))));
      return v;
    };
  };
  // A cheap per-token filter before the window's own check (keepsSentenceForm, which asks startsAsSentence again).
  const opensSentence = memo(startsAsSentence);
  const endsSentence = memo((t) => /[.!?]["'’)\]]?$/.test(t));
  const breaks = memo((t) => PROSE_BREAK.test(t));
  for (const d of docs) {
    for (let s = 0; s + seqLen <= d.ids.length; s++) {
      if (!opensSentence(d.ids[s]) || (s > 0 && (!endsSentence(d.ids[s - 1]) || ABBREVIATION_END.test(tok.decode(d.ids.slice(Math.max(0, s - 4), s)))))) continue;
      const ids = d.ids.slice(s, s + seqLen);
      const text = tok.decode(ids);
      if (PROSE_BREAK.test(text) || !keepsSentenceForm(text)) continue;
      // What follows, up to a line break or <|endoftext|> (a deletion pulls in only the same run of prose).
      const next = d.ids.slice(s + seqLen, s + seqLen + SEED_NEXT_TOKENS);
      const stop = next.findIndex((id) => breaks(id));
      out.push({ ids, docId: d.id, text, next: stop < 0 ? next : next.slice(0, stop) });
    }
  }
  if (out.length <= maxWindows) return out;
  const step = out.length / maxWindows;
  return Array.from({ length: maxWindows }, (_, i) => out[Math.floor(i * step)]);
}

/** Units read together from one forward pass: a layer's MLP neurons, or an SAE's latents. Keys are `name:index`. */
export interface UnitGroup {
  name: string;
  hooks: string[];
  /** [B, T, units] activations of the group from the run's cache (inside a tidy). */
  read(cache: Map<string, tf.Tensor>): tf.Tensor;
}

/** A layer's MLP neurons (mlp.hook_post), keyed `layer:neuron`. */
export function neuronGroup(layer: number): UnitGroup {
  const hook = hookName(layer, 'mlp.hook_post');
  return { name: String(layer), hooks: [hook], read: (cache) => cache.get(hook)! };
}

/**
 * Every MLP neuron of `layers` over many equal-length windows at once (each after <|endoftext|>): the top `keep`
 * windows of each neuron (key `layer:neuron`) by its maximum over the window's tokens.
 */
export function topWindowsPerNeuron(model: GPT2, windows: { ids: number[]; docId: string }[], layers: number[], keep: number, batch = 64): Promise<Map<string, { index: number; value: number }[]>> {
  return topWindowsPerUnit(model, windows, layers.map(neuronGroup), keep, batch);
}

/** As topWindowsPerNeuron, for any groups of units (neurons, SAE latents) read from the same forward passes. */
export async function topWindowsPerUnit(
  model: GPT2,
  windows: { ids: number[]; docId: string }[],
  groups: UnitGroup[],
  keep: number,
  batch = 64,
): Promise<Map<string, { index: number; value: number }[]>> {
  const hooks = [...new Set(groups.flatMap((g) => g.hooks))];
  // Only activations are read: the blocks after the last hooked one (and the unembedding) are never run.
  const layers = hooks.map((h) => parseHookName(h)?.layer);
  const stopAtLayer = layers.every((l) => l !== undefined) ? Math.max(...(layers as number[])) + 1 : undefined;
  const top = new Map<string, { index: number; value: number }[]>();
  const bos = model.config.bosTokenId;
  for (let w = 0; w < windows.length; w += batch) {
    const rows = windows.slice(w, w + batch);
    const T = rows[0].ids.length + 1;
    const maxes = tf.tidy(() => {
      const ids = tf.tensor2d(rows.map((r) => [bos, ...r.ids]), [rows.length, T], 'int32');
      const run = model.run({ ids }, { hooks, skipLogits: true, stopAtLayer });
      // The free positions only (the <|endoftext|> prefix is never counted), max over tokens: [rows, units] per group.
      return groups.map((g) => tf.max(tf.slice(g.read(run.cache), [0, 1, 0], [-1, -1, -1]), 1));
    });
    const data = await Promise.all(maxes.map((m) => m.data() as Promise<Float32Array>));
    tf.dispose(maxes);
    groups.forEach((g, gi) => {
      const m = data[gi];
      const units = m.length / rows.length;
      for (let r = 0; r < rows.length; r++) {
        for (let n = 0; n < units; n++) {
          const key = `${g.name}:${n}`;
          let list = top.get(key);
          if (!list) top.set(key, (list = []));
          const v = m[r * units + n];
          if (list.length < keep || v > list[list.length - 1].value) {
            list.push({ index: w + r, value: v });
            list.sort((a, b) => b.value - a.value);
            if (list.length > keep) list.pop();
          }
        }
      }
    });
  }
  return top;
}

/** Share of seeded's candidates drawn at or before the member's peak token (fluent.ts SubstitutionOptions.focus). */
export const SEEDED_PEAK_SHARE = 0.75;

/** Share of seeded's candidates that insert a word, when it may (--insert-words plain). */
export const SEEDED_INSERT_SHARE = 0.3;

/** Share of seeded's candidates that delete a word, when it may (--delete-words modifiers) and one is deletable. */
export const SEEDED_DELETE_SHARE = 0.15;

/** With --swap-order sweep, the likeliest tokens at each position a member's sweep tries in place of the word there. */
export const SEEDED_SWEEP_SWAPS = 64;

/** Steps without a better candidate after which a `seeded` member leaves its seed for the next one in reserve. */
export const SEEDED_PATIENCE = 2;

export function seededMethod(
  model: GPT2,
  tok: TextTokenizer,
  target: Target,
  objective: Objective,
  cfg: DreamConfig,
  seeds: SeedWindow[],
  seedCost: number,
  judgeTerm?: JudgeTerm,
  opts: {
    /** With a lexicon, a word is swapped only for one of the same part of speech (cfg.seedEdits 'part-of-speech…'). */
    tags?: TagLexicon;
    /** With the lexicon, words whose (most frequent) tag passes this are never swapped (cfg.seedEdits 'part-of-speech': verbs and adjectives). */
    fixedTags?: (tag: string) => boolean;
    /** A further test of an edited text against its seed's (cfg.editContext 'attested': readability/attestedEdits.ts). */
    keepsEdit?: (seed: SeedWindow, text: string, seedNext?: string) => boolean;
    /** Measures each step's candidates (candidateBatch.ts): alone by default. */
    evaluate?: CandidateEvaluator;
    /** Seeds a member takes up when its search has stopped moving (SEEDED_PATIENCE steps), in order. */
    reserve?: SeedWindow[];
    /** Words that may be inserted beside the swaps (cfg.insertWords 'plain': readability/insertions.ts). */
    insertWords?: readonly string[];
    /** Each member sweeps every insertion of a seed it takes up before drawing at random (fluent.ts SubstitutionOptions.insert.sweep). */
    insertSweep?: boolean;
    /** Each member sweeps the swaps the model finds likeliest (SEEDED_SWEEP_SWAPS a position) for a seed it takes up before drawing at random (fluent.ts SubstitutionOptions.swapSweep). */
    swapSweep?: boolean;
    /** With swapSweep, the share of each step's candidates the sweep takes (--swap-order mixed); all of them without. */
    swapSweepShare?: number;
    /** Words (single tokens after a space) that may be deleted, the text pulling in its document's next token (cfg.deleteWords 'modifiers'). */
    deletable?: (word: string) => boolean;
  } = {},
): DreamMethod {
  const { tags, fixedTags, keepsEdit, evaluate } = opts;
  // Each word as the single token it is after a space; an insertion is never the first token, so never capitalised.
  const insertTokens = (opts.insertWords ?? []).map((w) => tok.encode(` ${w}`)).filter((ids) => ids.length === 1).map((ids) => ids[0]);
  const inserting = insertTokens.length > 0;
  const deleting = opts.deletable !== undefined;
  // A deletable token: a whole word after a space (a piece of a longer word would break it in two).
  const deletableToken = new Map<number, boolean>();
  const isDeletable = (id: number) => {
    let v = deletableToken.get(id);
    if (v === undefined) {
      const t = tok.decode([id]);
      deletableToken.set(id, (v = /^ \p{Ll}+$/u.test(t) && opts.deletable!(t.slice(1))));
    }
    return v;
  };
  // With insertions or deletions the text shifts against its seed: edits are counted as token edit distance from the
  // seed run on into its document (the tokens pushed out at the end free).
  const editsOf = (origin: number[], ids: number[], next: number[] = []) =>
    inserting || deleting ? tokenEdits([...origin, ...next], ids, cfg.maxEdits + next.length) : hamming(ids, origin);
  if (!seeds.length) throw new Error('seeded: the seed pool gave no windows for this target');
  const rho = cfg.repetitionPenalty;
  const lambdas = seeds.map((_, i) => cfg.lambdas[i % cfg.lambdas.length]);
  // Every seed a member may hold (the first ones, then the reserve), and which one each member holds now.
  const all = [...seeds, ...(opts.reserve ?? [])];
  // What follows each seed in its document, decoded once (what a deletion's dream is lined up with); none without deletions.
  const nextTexts = all.map((s) => (deleting && s.next?.length ? tok.decode(s.next) : undefined));
  const held = seeds.map((_, i) => i);
  const label = (i: number) => `seed ${held[i] + 1} λ=${lambdas[i]}`;
  const labels = seeds.map((_, i) => label(i));
  const origins = seeds.map((s) => s.ids);
  const inner = substitutionSearch(model, tok, target, objective, { ...cfg, topP: cfg.topP > 0 ? cfg.topP : 0.9 }, origins, {
    name: 'seeded',
    lambdas,
    labels,
    origins,
    maxEdits: cfg.maxEdits,
    banned: breakingTokens(model, tok),
    noRepeat: true,
    // Seeds start as sentences; an edit that breaks the form (a lower-case start, a doubled word) cannot count, nor,
    // with a lexicon, one that changes a word's part of speech ("They all prayed" -> "They Our New"). The
    // judge's comparison with the seed is never a score the search climbs: searched against, it was met by edits a
    // reader rejects ("They all prayed now that" -> "They Our New now in"), as any one score of a weak judge would be.
    // With --edit-check readable it is a filter only (keepsEdit): a candidate the rule refuses is never measured.
    keeps: (text, i) =>
      keepsSentenceForm(text) &&
      (!tags || keepsPartsOfSpeech(tags, all[held[i]].text, text, fixedTags, inserting, nextTexts[held[i]])) &&
      (!keepsEdit || keepsEdit(all[held[i]], text, nextTexts[held[i]])),
    score: (e, lam) => searchScore(e, lam, rho, judgeTerm),
    initCost: seedCost,
    evaluate,
    focus: { peakShare: SEEDED_PEAK_SHARE },
    ...(opts.swapSweep ? { swapSweep: { plausible: SEEDED_SWEEP_SWAPS, ...(opts.swapSweepShare === undefined ? {} : { share: opts.swapSweepShare }) } } : {}),
    ...(inserting ? { insert: { tokens: insertTokens, share: SEEDED_INSERT_SHARE, sweep: opts.insertSweep } } : {}),
    ...(deleting ? { delete: { share: SEEDED_DELETE_SHARE, deletable: isDeletable }, tails: { init: seeds.map((s) => s.next ?? []), starts: (opts.reserve ?? []).map((s) => s.next ?? []) } } : {}),
    ...(inserting || deleting ? { edits: editsOf } : {}),
    ...(opts.reserve?.length
      ? {
          restarts: {
            starts: opts.reserve.map((s) => s.ids),
            patience: Math.max(SEEDED_PATIENCE, cfg.every),
            onRestart: (i: number, k: number) => ((held[i] = seeds.length + k), (labels[i] = label(i))),
          },
        }
      : {}),
  });
  return {
    ...inner,
    origins: async () => {
      const cur = await inner.current();
      return cur.map((ids, i): DreamOrigin => {
        const s = all[held[i]];
        const seedNext = nextTexts[held[i]];
        return { seedText: s.text, seedValue: s.value, seedDoc: s.docId, edits: editsOf(s.ids, ids, deleting ? s.next : []), ...(seedNext !== undefined ? { seedNext } : {}) };
      });
    },
  };
}
