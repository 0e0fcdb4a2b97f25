// The readability measure's parts, each against values worked out by hand: the Kneser-Ney judge on a toy corpus,
// repetition on fixed strings, the percentile table on a synthetic distribution, window sampling, the splits, and
// the judge file's round trip.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CorpusDocument } from '../src-main/corpus/documents.js';
import { gpt2Tokenizer } from '../src-main/train/lmCorpus.js';
import { PercentileTable, sampleWindows } from '../src-main/readability/calibration.js';
import { changedPositions, editsAttested } from '../src-main/readability/attestedEdits.js';
import { buildJudge } from '../src-main/readability/judge.js';
import { readJudgeFile, writeJudgeFile } from '../src-main/readability/judgeFile.js';
import { KneserNeyJudge } from '../src-main/readability/kneserNey.js';
import { repetition, textWords } from '../src-main/readability/repetition.js';
import { readabilitySplits } from '../src-main/readability/splits.js';
import { PUNCTUATION, SHAPES, textPieces, WordClasses } from '../src-main/readability/wordClasses.js';
import { readWordList } from '../src-main/readability/wordList.js';
import type { Readability } from '../src-main/readability/types.js';
import type { Dream } from '../src-main/dream/records.js';
import { countsAsDream, isCorpusCopy, mostReadable, normaliseForCopy, readableChoices, SHOWN_DREAMS } from '../src-main/dream/yardstick.js';
import { paretoByEdits, paretoSet, type DreamResult } from '../src-main/dream/loop.js';
import { dreamsThatBeat, readableVerdict } from '../src-main/cli/commands/dream.js';

describe('Kneser-Ney trigram judge', () => {
  // Vocabulary {0..4}; documents [0 1 2 0 1 3] and [0 1 2]; D = 0.75. By hand (see the comments):
  //   trigrams: 012 ×2, 120, 201, 013 → c(01·) = 3 with 2 types; c(12·) = 1; c(20·) = 1
  //   bigram types: 01, 12, 20, 13 → N1+(··) = 4; N1+(·w) = 1 for w = 0, 1, 2, 3
  //   left contexts of bigrams (from trigram types): ·12, ·20, ·01, ·13 one each → N1+(·1·) = 2, N1+(1·) = 2
  const judge = new KneserNeyJudge(5);
  judge.addDocument([0, 1, 2, 0, 1, 3]);
  judge.addDocument([0, 1, 2]);
  const P1seen = 0.25 / 4 + 0.75 * (4 / 4) * (1 / 5); // 0.2125
  const P1unseen = 0.75 * (4 / 4) * (1 / 5); // 0.15
  const P2_2_1 = 0.25 / 2 + 0.75 * (2 / 2) * P1seen; // 0.284375

  it('P1 (continuation unigram with a uniform floor) sums to one', () => {
    expect(judge.p1(0)).toBeCloseTo(P1seen, 12);
    expect(judge.p1(4)).toBeCloseTo(P1unseen, 12);
    expect([0, 1, 2, 3, 4].reduce((a, w) => a + judge.p1(w), 0)).toBeCloseTo(1, 12);
  });

  it('P2 and P3 match the interpolated formulas and are distributions', () => {
    expect(judge.p2(1, 2)).toBeCloseTo(P2_2_1, 12);
    expect(judge.p2(1, 0)).toBeCloseTo(0.75 * P1seen, 12);
    expect(judge.p3(0, 1, 2)).toBeCloseTo(1.25 / 3 + 0.75 * (2 / 3) * P2_2_1, 12); // 0.5588542
    expect(judge.p3(0, 1, 3)).toBeCloseTo(0.25 / 3 + 0.75 * (2 / 3) * P2_2_1, 12);
    expect(judge.p3(0, 1, 4)).toBeCloseTo(0.75 * (2 / 3) * (0.75 * P1unseen), 12);
    for (const [u, v] of [
      [0, 1],
      [1, 2],
      [3, 3],
      [4, 0],
    ]) {
      expect([0, 1, 2, 3, 4].reduce((a, w) => a + judge.p3(u, v, w), 0)).toBeCloseTo(1, 12);
    }
    // An unseen history backs off entirely: (3, 3) was never seen, and nothing follows 3 in a trigram.
    expect(judge.p3(3, 3, 2)).toBeCloseTo(judge.p1(2), 12);
  });

  it('scores a text with its own context only, and SLOR subtracts the add-½ unigram', () => {
    const s = judge.score([0, 1, 2]);
    const p = [P1seen, 0.25 / 1 + 0.75 * (1 / 1) * P1seen, 1.25 / 3 + 0.75 * (2 / 3) * P2_2_1];
    // Unigram counts 0:3 1:3 2:2 3:1 of 9 tokens; add-½ over V = 5.
    const u = [3.5 / 11.5, 3.5 / 11.5, 2.5 / 11.5];
    s.logProbs.forEach((l, i) => expect(l).toBeCloseTo(Math.log(p[i]), 12));
    expect(s.meanLogProb).toBeCloseTo(p.reduce((a, x) => a + Math.log(x), 0) / 3, 12);
    expect(s.slor).toBeCloseTo(p.reduce((a, x, i) => a + Math.log(x) - Math.log(u[i]), 0) / 3, 12);
  });

  it('gives a repeated word no credit for being repeated (no copying from context)', () => {
    // "0 1 0 1 0 1": after the first two tokens each step is P3 of a seen or unseen trigram, never boosted by
    // the repetition itself; the same trigram scores the same wherever it occurs.
    const s = judge.score([0, 1, 0, 1, 0, 1]);
    expect(s.logProbs[2]).toBeCloseTo(s.logProbs[4], 12);
    expect(s.logProbs[3]).toBeCloseTo(s.logProbs[5], 12);
  });

  it('round-trips through arrays, and pruning trigrams of count 1 keeps every aggregate', () => {
    const back = KneserNeyJudge.fromArrays(judge.toArrays());
    for (const [u, v, w] of [
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 4],
    ]) {
      expect(back.p3(u, v, w)).toBe(judge.p3(u, v, w));
    }
    const pruned = KneserNeyJudge.fromArrays(judge.toArrays(2));
    expect(pruned.p3(0, 1, 2)).toBe(judge.p3(0, 1, 2)); // count 2 kept
    expect(pruned.p3(0, 1, 3)).toBeCloseTo(judge.p3(0, 1, 3) - 0.25 / 3, 12); // count 1: only its back-off mass
    expect(() => back.addDocument([1])).toThrow(/cannot count more/);
  });

  it('refuses ids outside its vocabulary', () => {
    expect(() => new KneserNeyJudge(5).addDocument([5])).toThrow(/outside the vocabulary/);
  });
});

describe('repetition', () => {
  it('counts words, the most repeated one, repeated bigrams and distinct-n', () => {
    const r = repetition('The cat and the dog, and the bird.');
    expect(r).toEqual({ words: 8, maxWordCount: 3, mostRepeated: 'the', repeatedBigrams: 1, distinct1: 5 / 8, distinct2: 6 / 7 });
    expect(repetition('Nation Nation Americans working.6')).toMatchObject({ maxWordCount: 2, mostRepeated: 'nation', repeatedBigrams: 0 });
    expect(repetition('')).toEqual({ words: 0, maxWordCount: 0, mostRepeated: null, repeatedBigrams: 0, distinct1: 1, distinct2: 1 });
    expect(textWords("He didn’t say \"yes\" -- 42 times")).toEqual(['he', "didn't", 'say', 'yes', '42', 'times']);
  });
});

describe('percentile calibration', () => {
  it('places a score among reference scores of its length, ties counting half', () => {
    const t = new PercentileTable(
      new Map([
        [10, Array.from({ length: 100 }, (_, i) => i)],
        [20, Array.from({ length: 100 }, (_, i) => 2 * i)],
      ]),
    );
    expect(t.percentile(49.5, 10)).toBe(50);
    expect(t.percentile(50, 10)).toBe(50.5);
    expect(t.percentile(-1, 10)).toBe(0);
    expect(t.percentile(1000, 10)).toBe(100);
    expect(t.percentile(99, 20)).toBe(50);
    expect(t.percentile(99, 18)).toBe(50); // nearest length with references: 20
    expect(t.percentile(Number.NaN, 10)).toBe(0);
    expect(PercentileTable.fromJSON(t.toJSON()).percentile(49.5, 10)).toBe(50);
  });

  it('samples windows inside single documents, deterministically for a seed', () => {
    const docs = [Array.from({ length: 10 }, (_, i) => i), [100, 101, 102, 103, 104]];
    const w = sampleWindows(docs, 3, 6, 50, 5);
    for (const [len, ws] of w) {
      expect(ws).toHaveLength(50);
      for (const x of ws) {
        expect(x).toHaveLength(len);
        x.forEach((id, i) => i && expect(id).toBe(x[i - 1] + 1)); // contiguous: never across the two documents
      }
    }
    expect(w.get(6)!.every((x) => x[0] < 100)).toBe(true); // only the first document holds 6 tokens
    expect(w.get(3)!.some((x) => x[0] >= 100)).toBe(true);
    expect(sampleWindows(docs, 3, 6, 50, 5)).toEqual(w);
  });
});

describe('readability splits', () => {
  const docs: CorpusDocument[] = [
    ...Array.from({ length: 60 }, (_, i) => ({ id: `b${i}`, source: 'brown', genre: 'news', text: `b ${i}` })),
    ...Array.from({ length: 40 }, (_, i) => ({ id: `k${i}`, source: 'kjv', text: `k ${i}` })),
  ];

  it('are disjoint, cover every document, and are fixed by their seed', () => {
    const s = readabilitySplits(docs);
    const ids = (d: CorpusDocument[]) => new Set(d.map((x) => x.id));
    const [j, p, h] = [ids(s.judge), ids(s.seedPool), ids(s.heldOut)];
    expect(j.size + p.size + h.size).toBe(100);
    for (const id of p) expect(j.has(id) || h.has(id)).toBe(false);
    for (const id of h) expect(j.has(id)).toBe(false);
    expect(p.size).toBe(Math.round(0.1 * (100 - h.size)));
    expect(readabilitySplits([...docs].reverse()).seedPool.map((d) => d.id).sort()).toEqual([...p].sort());
    expect(readabilitySplits(docs, { seed: 1 }).seedPool.map((d) => d.id).sort()).not.toEqual([...p].sort());
  });

  it("picks each source's seed pool on its own, so loading another source never moves Brown documents", () => {
    const alone = readabilitySplits(docs.filter((d) => d.source === 'brown'));
    const mixed = readabilitySplits(docs);
    const brown = (d: CorpusDocument[]) => d.filter((x) => x.source === 'brown').map((x) => x.id);
    expect(brown(mixed.seedPool)).toEqual(brown(alone.seedPool));
    expect(brown(mixed.judge)).toEqual(brown(alone.judge));
  });
});

describe('judge file', () => {
  it('writes and reads back the same judge, and refuses a corrupt file with the command that rebuilds it', async () => {
    const tok = gpt2Tokenizer();
    const text = ['The cat sat on the mat. The dog sat on the rug.', 'A bird flew over the house and sang a song.', 'The man went to the market to buy bread.'];
    const judge = buildJudge(tok, text, ['The cat went over the house to buy a song.']);
    const dir = await mkdtemp(join(tmpdir(), 'textdream-judge-'));
    try {
      const file = join(dir, 'judge.bin.gz');
      await writeJudgeFile(file, judge, { corpus: 'toy', splits: null, judgeDocuments: 3, heldOutDocuments: 1, minTrigramCount: 1, wordList: null, command: 'test' });
      const { judge: back, provenance } = await readJudgeFile(file, tok);
      expect(provenance.corpus).toBe('toy');
      for (const t of ['The cat sat on the rug.', 'bread song the the']) expect(back.percentile(t)).toEqual(judge.percentile(t));
      expect(back.syntax.classes.words).toEqual(judge.syntax.classes.words);
      expect([...back.lexicon].sort()).toEqual([...judge.lexicon].sort());
      await writeFile(file, 'not gzip');
      await expect(readJudgeFile(file, tok)).rejects.toThrow(/textdream build-judge/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('word classes and the syntax model', () => {
  // Frequent words by count in the toy text: the ×4, sat ×2 (ties alphabetically: sat < on? no: on ×2 < sat ×2).
  const toy = ['The cat sat on the mat.', 'The dog sat on the rug!'];
  const classes = WordClasses.fromTexts(toy, 3);
  const W = classes.words.length;
  const P = (p: string) => W + PUNCTUATION.indexOf(p as (typeof PUNCTUATION)[number]);
  const other = W + PUNCTUATION.length;
  const shape = (name: string, capital = false) => other + 1 + 2 * SHAPES.findIndex(([n]) => n === name) + (capital ? 1 : 0);

  it('keeps the most frequent words, ties in alphabetical order', () => {
    expect(classes.words).toEqual(['the', 'on', 'sat']);
    expect(classes.size).toBe(3 + PUNCTUATION.length + 1 + 2 * SHAPES.length);
  });

  it('maps words to themselves, punctuation to itself, and other words to their shape, capitals apart', () => {
    expect(textPieces("The developer's car, 1999 -- quickly!")).toEqual(['The', "developer's", 'car', ',', '1999', '-', '-', 'quickly', '!']);
    expect(classes.ids('The developer bulldozes out the trees.')).toEqual([0, shape('-er'), shape('-s'), shape('word'), 0, shape('-s'), P('.')]);
    expect(classes.ids('Sat ON Kubla; 42 trees faded slowly, singing @')).toEqual([
      2, 1, shape('word', true), P(';'), shape('number'), shape('-s'), shape('-ed'), shape('-ly'), P(','), shape('-ing'), other,
    ]);
    expect(classes.ids('the nation')).toEqual([0, shape('-tion')]);
  });

  it("scores a text's classes with the syntax n-gram model, calibrated on held-out windows", () => {
    const tok = gpt2Tokenizer();
    const judge = buildJudge(tok, toy, ['The cat sat on the rug.'], () => undefined, ['bulldozes']);
    const ids = judge.syntax.classes.ids('The bird sat on the sofa.');
    const s = judge.syntax.ngram.score(ids);
    expect(judge.syntaxScore('The bird sat on the sofa.')).toBeCloseTo(s.slor + s.meanLogProb, 12);
    // Words the judge never saw are their shapes: any two such sentences of one shape score alike, and the same
    // words out of order score lower.
    expect(judge.syntaxScore('The bird sat on the sofa.')).toBeCloseTo(judge.syntaxScore('The fox sat on the bed.'), 12);
    expect(judge.syntaxScore('sofa bird the the on sat.')).toBeLessThan(judge.syntaxScore('The bird sat on the sofa.') - 0.5);
    // The word list joins the lexicon, lower-cased; the judge's own words need two occurrences.
    expect(judge.lexicon.has('bulldozes')).toBe(true);
    expect(judge.lexicon.has('sat')).toBe(true);
    expect(judge.lexicon.has('cat')).toBe(false);
  });
});

describe('word list', () => {
  it('reads one word per line, lower-cased and distinct, and refuses a missing or empty file with the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'textdream-words-'));
    try {
      const file = join(dir, 'words');
      await writeFile(file, 'Bulldozes\nbulldozes\n\n  Kubla \ndog’s\n');
      expect(await readWordList(file)).toEqual(['bulldozes', 'kubla', "dog's"]);
      await writeFile(file, '\n\n');
      await expect(readWordList(file)).rejects.toThrow(/has no words/);
      await expect(readWordList(join(dir, 'absent'))).rejects.toThrow(/cannot read the word list .*one word per line/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('split rules for counting a dream', () => {
  const corpus = normaliseForCopy('The committee met on Monday.\n\nIt said   the budget was ready.');
  const readable = { percentile: 60, readable: true } as Readability;
  const dream = (text: string, extra: Partial<Dream> = {}): Dream => ({ text, ids: [], tokens: [], perToken: [], max: 2, mean: 1, value: 2, ce: 5, label: 'x', readability: readable, ...extra });

  it('never counts corpus text, unreadable text, or a seeded dream without an edit and a lift', () => {
    expect(countsAsDream(dream(' a new sentence of our own'), corpus)).toBe(true);
    expect(isCorpusCopy(' it said the BUDGET was', corpus)).toBe(true);
    expect(countsAsDream(dream(' it said the BUDGET was'), corpus)).toBe(false);
    expect(countsAsDream(dream(' a new sentence', { readability: { ...readable, readable: false } }), corpus)).toBe(false);
    const origin = { seedText: ' a new one', seedValue: 1, seedDoc: 'ca01', edits: 2 };
    expect(countsAsDream(dream(' a new sentence', { origin }), corpus)).toBe(true);
    expect(countsAsDream(dream(' a new sentence', { origin: { ...origin, edits: 0 } }), corpus)).toBe(false);
    expect(countsAsDream(dream(' a new sentence', { origin: { ...origin, seedValue: 2 } }), corpus)).toBe(false);
  });
});

describe('Pareto set of activation against readability', () => {
  const d = (text: string, value: number, percentile: number): Dream =>
    ({ text, ids: [], tokens: [], perToken: [], max: value, mean: value, value, ce: 5, label: text, readability: { percentile, readable: true } as Readability }) as Dream;

  it('keeps the dreams no other beats on both, once per text, by descending value', () => {
    const front = paretoSet([d('a', 3, 10), d('b', 2, 50), d('c', 2.5, 5), d('d', 1, 90), d('e', 1.5, 40), d('a', 3, 10), d('f', 3, 20)]);
    expect(front.map((x) => x.text)).toEqual(['f', 'b', 'd']);
  });
});

describe('the CLI verdict: the most readable dream that beats the held-out maximum', () => {
  const readable = { percentile: 50, readable: true } as Readability;
  const d = (text: string, value: number, percentile: number, origin?: Dream['origin']): Dream =>
    ({ text, ids: [], tokens: [], perToken: [], max: value, mean: value, value, ce: 5, label: text, readability: { ...readable, percentile }, ...(origin ? { origin } : {}) }) as Dream;
  const result = (pareto: Dream[]) => ({ pareto, bestReadable: pareto[0] ?? null }) as unknown as DreamResult;
  const corpus = normaliseForCopy('The cat sat on the mat. A dog ran.');
  const seed = { seedText: ' A cat sat', seedValue: 2, seedDoc: 'ca01', edits: 1 };
  // As the CLI calls it: the dreams that beat the maximum, then the verdict over them.
  const verdict = (res: DreamResult, yard: { max: number; corpus: string } | null, rank?: (x: Dream) => number) => readableVerdict(res, dreamsThatBeat(res, yard), rank);

  it('counts only dreams under the split rules, and of those beating the maximum picks the most readable', () => {
    const pareto = [
      d(' The cat sat on the mat.', 9, 99), // corpus text
      d(' A cat sat', 8, 95, { ...seed, edits: 0 }), // the seed itself
      d(' A cow sat', 7, 90, { ...seed, seedValue: 7.5 }), // edited, but below its seed
      d(' A cat ran', 6, 60, seed),
      d(' A cat ate', 5, 70, seed),
      d(' A cat hid', 3, 80, seed), // below the maximum
    ];
    expect(verdict(result(pareto), { max: 4, corpus }).beats?.text).toBe(' A cat ate');
    expect(verdict(result(pareto), { max: 6.5, corpus }).beats).toBeNull();
    // Fewer edits first: one swapped word reads as English more often than two, whatever the percentile.
    const twoEdits = d(' A dog ate', 5.5, 99, { ...seed, edits: 2 });
    expect(verdict(result([...pareto, twoEdits]), { max: 4, corpus }).beats?.text).toBe(' A cat ate');
    expect(verdict(result([...pareto, { ...twoEdits, origin: { ...seed } }]), { max: 4, corpus }).beats?.text).toBe(' A dog ate');
    expect(verdict(result(pareto), null).beats).toBeNull();
  });

  it('picks from the Pareto set of each edit count: a one-edit dream that a two-edit dream beats on both axes is still shown', () => {
    const one = d(' A cat ate', 5, 60, seed);
    const two = d(' A dog ate', 6, 80, { ...seed, edits: 2 });
    const three = d(' A dog ran', 7, 70, { ...seed, edits: 3 });
    const dreams = [one, two, three, d(' A cat hid', 4.5, 50, seed)];
    // The overall front loses the one-edit dream; each edit count's front keeps it (and drops what its own count beats).
    expect(paretoSet(dreams).map((x) => x.text)).toEqual([' A dog ran', ' A dog ate']);
    expect(paretoByEdits(dreams).map((x) => x.text)).toEqual([' A dog ran', ' A dog ate', ' A cat ate']);
    const res = { pareto: paretoSet(dreams), paretoByEdits: paretoByEdits(dreams), bestReadable: three } as unknown as DreamResult;
    expect(verdict(res, { max: 4, corpus }).beats?.text).toBe(' A cat ate');
    // From the overall front alone, the verdict would show two edits where one beats the maximum.
    expect(verdict({ ...res, paretoByEdits: undefined }, { max: 4, corpus }).beats?.text).toBe(' A dog ate');
    // One seed: nothing else to show.
    expect(verdict(res, { max: 4, corpus }).others).toEqual([]);
  });

  it('shows up to SHOWN_DREAMS dreams, each from another seed, in the same order; the Pareto set of each seed keeps them', () => {
    const other = { seedText: ' The dog ran', seedValue: 2, seedDoc: 'cb02', edits: 1 };
    const third = { seedText: ' Her cat sat', seedValue: 2, seedDoc: 'cc03', edits: 1 };
    const dreams = [
      d(' A cat ate', 5, 60, seed),
      d(' A cat hid', 5.5, 55, seed), // the first seed's again: never a second choice
      d(' The dog ate', 4.5, 50, other), // beaten on both axes by the first seed's dream, but another seed's
      d(' The dog sat', 4.2, 40, other),
      d(' Her cat ate', 6, 99, { ...third, edits: 2 }), // two edits: after the one-edit dreams of every seed
      d(' Our cat ate', 4.1, 20, { ...third, seedText: ' Our cat sat', seedDoc: 'cd04' }),
    ];
    expect(SHOWN_DREAMS).toBe(3);
    expect(readableChoices(dreams, 3).map((x) => x.text)).toEqual([' A cat ate', ' The dog ate', ' Our cat ate']);
    expect(readableChoices(dreams, 5).map((x) => x.text)).toEqual([' A cat ate', ' The dog ate', ' Our cat ate', ' Her cat ate']);
    expect(readableChoices(dreams, 1)).toEqual([mostReadable(dreams)]);
    expect(readableChoices([], 3)).toEqual([]);
    // The same text from two seeds' windows (two documents) is two choices; dreams without a seed go by text.
    const plain = [d(' A', 3, 50), d(' A', 3.5, 40), d(' B', 3, 45)];
    expect(readableChoices(plain, 3).map((x) => x.text)).toEqual([' A', ' B']);
    // The loop's per-seed Pareto sets keep the other seed's dream, which the overall front drops.
    expect(paretoSet(dreams).map((x) => x.text)).not.toContain(' The dog ate');
    const kept = paretoByEdits(dreams).map((x) => x.text);
    expect(kept).toContain(' The dog ate');
    expect(kept).not.toContain(' The dog sat');
    const res = { pareto: paretoSet(dreams), paretoByEdits: paretoByEdits(dreams), bestReadable: dreams[4] } as unknown as DreamResult;
    const v = verdict(res, { max: 4, corpus });
    expect(v.beats?.text).toBe(' A cat ate');
    expect(v.others.map((x) => x.text)).toEqual([' The dog ate', ' Our cat ate']);
    // Below the maximum, another seed's dream is not shown.
    expect(verdict(res, { max: 4.3, corpus }).others.map((x) => x.text)).toEqual([' The dog ate', ' Her cat ate']);
  });

  it('with a rank (a judge model\'s percentile), orders dreams of as many edits by it; fewer edits still come first', () => {
    const other = { seedText: ' The dog ran', seedValue: 2, seedDoc: 'cb02', edits: 1 };
    const third = { seedText: ' Her cat sat', seedValue: 2, seedDoc: 'cc03', edits: 1 };
    const dreams = [d(' A cat ate', 5, 60, seed), d(' The dog ate', 4.5, 50, other), d(' Her cat ate', 6, 99, { ...third, edits: 2 }), d(' Our cat ate', 4.1, 20, { ...third, seedText: ' Our cat sat', seedDoc: 'cd04' })];
    const byModel = new Map([[' A cat ate', 10], [' The dog ate', 80], [' Her cat ate', 100], [' Our cat ate', 40]]);
    const rank = (x: Dream) => byModel.get(x.text)!;
    expect(readableChoices(dreams, 4, rank).map((x) => x.text)).toEqual([' The dog ate', ' Our cat ate', ' A cat ate', ' Her cat ate']);
    const res = { pareto: dreams, paretoByEdits: dreams, bestReadable: dreams[2] } as unknown as DreamResult;
    expect(dreamsThatBeat(res, { max: 4.3, corpus }).map((x) => x.text)).toEqual([' A cat ate', ' The dog ate', ' Her cat ate']);
    const v = verdict(res, { max: 4.3, corpus }, rank);
    expect([v.beats?.text, ...v.others.map((x) => x.text)]).toEqual([' The dog ate', ' A cat ate', ' Her cat ate']);
    expect(dreamsThatBeat(res, null)).toEqual([]);
  });
});

describe('attested edits', () => {
  it('changedPositions: position by position when equally long, else the span between common prefix and suffix', () => {
    expect(changedPositions([1, 2, 3, 4], [1, 9, 3, 8])).toEqual([1, 3]);
    expect(changedPositions([1, 2, 3, 4], [1, 2, 3, 4])).toEqual([]);
    expect(changedPositions([1, 2, 3, 4], [1, 7, 8, 3, 4])).toEqual([1, 2]);
    expect(changedPositions([1, 2, 3, 4], [1, 4])).toEqual([]);
  });

  it('an edit passes when some trigram around it is in the judge text, and fails when none is', () => {
    const tok = gpt2Tokenizer();
    const judge = buildJudge(tok, ['The cat sat on the mat. The dog sat on the rug.', 'A bird flew over the house and sang a song.'], ['The cat went over the house.']);
    const seed = 'The cat sat on the mat.';
    // " dog sat on" is in the text: the swap cat → dog is attested.
    expect(editsAttested(judge, seed, 'The dog sat on the mat.')).toBe(true);
    // "the bird sat", "bird sat on": never; nor "on the song", "the song.".
    expect(editsAttested(judge, seed, 'The bird sat on the mat.')).toBe(false);
    expect(editsAttested(judge, seed, 'The cat sat on the song.')).toBe(false);
    // Every edit is tested: one attested edit does not carry another.
    expect(editsAttested(judge, seed, 'The dog sat on the song.')).toBe(false);
    expect(editsAttested(judge, seed, seed)).toBe(true);
    // At the last token only one trigram holds the change: not enough to judge it.
    expect(editsAttested(judge, 'The cat sat on the mat', 'The cat sat on the bird')).toBe(true);
    expect(editsAttested(judge, 'The cat sat on the mat', 'The cat sat by the mat')).toBe(false);
    // The counts it reads: the judge's own trigram counts.
    const ids = judge.ids(' dog sat on');
    expect(judge.ngram.trigramCount(ids[0], ids[1], ids[2])).toBe(1);
    expect(judge.ngram.trigramCount(ids[1], ids[0], ids[2])).toBe(0);
  });
});
