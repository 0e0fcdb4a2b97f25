// The protocol without a language model: scaling, the explain/score split, correlations checked against
// values computed by hand, the lenient reading of simulator replies, and the offline explainer and simulator.
import { describe, expect, it } from 'vitest';
import { cleanExplanation, explainerMessages, simulatorMessages } from '../src-main/explain/prompts.js';
import { explainNeuron, explainUplift } from '../src-main/explain/pipeline.js';
import { associatedItems, offlineExplainer, offlineSimulator, parseExplanation, renderExplanation, simulateFromItems } from '../src-main/explain/offline.js';
import { parseSimulation, SimulationParseError } from '../src-main/explain/parse.js';
import { scaleActivation, splitRecords } from '../src-main/explain/protocol.js';
import { pearson, scoreSimulations } from '../src-main/explain/score.js';
import { rng } from '../src-main/corpus/rng.js';
import type { ActivationRecord, NeuronRecords } from '../src-main/explain/types.js';
import { chooseNeurons, summarizeUplift, type UpliftRow } from '../src-main/explain/batch.js';
import type { ExplanationRun } from '../src-main/explain/pipeline.js';
import { explanationRow, recordsFromStore, saveExplanation } from '../src-main/explain/store.js';
import type { ExperimentHistory } from '../src-main/store/types.js';

describe('scaling and split', () => {
  it('scales to integers 0-10 by the max; negatives give 0, values above the max 10', () => {
    expect([-1, 0, 0.04, 0.05, 0.26, 1, 2].map((a) => scaleActivation(a, 1))).toEqual([0, 0, 0, 1, 3, 10, 10]);
    expect(scaleActivation(3, 0)).toBe(0);
    expect(scaleActivation(3, -2)).toBe(0);
  });

  it('interleaves top records: even ranks explain, odd ranks score; random records score', () => {
    const rec = (m: number): ActivationRecord => ({ tokens: ['a', 'b'], activations: [0, m] });
    const top = [5, 9, 1, 7, 3, 8, 2, 6, 4, 10].map(rec); // deliberately unsorted
    const random = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map(rec);
    const s = splitRecords({ layer: 0, neuron: 0, top, random, maxActivation: 10 }, { explain: 3, scoreTop: 2, scoreRandom: 5 });
    expect(s.explain.map((r) => r.activations[1])).toEqual([10, 8, 6]);
    expect(s.scoreTop.map((r) => r.activations[1])).toEqual([9, 7]);
    expect(s.scoreRandom.map((r) => r.activations[1])).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    const seen = new Set(s.explain);
    expect(s.scoreTop.some((r) => seen.has(r))).toBe(false);
  });
});

describe('correlation, computed by hand', () => {
  it('pearson on a small example', () => {
    // x = [1,2,3,4], y = [2,4,5,9]: means 2.5 and 5; deviations [-1.5,-.5,.5,1.5] and [-3,-1,0,4]
    // Σdxdy = 4.5+0.5+0+6 = 11, Σdx² = 5, Σdy² = 26  →  r = 11/√130
    expect(pearson([1, 2, 3, 4], [2, 4, 5, 9])).toBeCloseTo(11 / Math.sqrt(130), 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearson([0, 5, 10], [0, 2, 4])).toBeCloseTo(1, 12);
  });

  it('is NaN, not a crash, when undefined', () => {
    expect(pearson([5, 5, 5], [1, 2, 3])).toBeNaN();
    expect(pearson([1, 2, 3], [0, 0, 0])).toBeNaN();
    expect(pearson([1], [2])).toBeNaN();
    expect(pearson([], [])).toBeNaN();
    expect(pearson([1, Number.NaN, 3], [1, 2, 3])).toBeNaN();
    expect(() => pearson([1, 2], [1])).toThrow(/lengths differ/);
  });

  it('pools over every scored token, and reports top-only, random-only and per-record scores', () => {
    const top: ActivationRecord = { tokens: ['a', 'b', 'c'], activations: [0, 2, 4] };
    const random: ActivationRecord = { tokens: ['d', 'e', 'f'], activations: [1, 0, 0] };
    const broken: ActivationRecord = { tokens: ['g', 'h'], activations: [9, 0] };
    const s = scoreSimulations([
      { kind: 'top', index: 0, record: top, simulated: [0, 5, 10] },
      { kind: 'random', index: 0, record: random, simulated: [0, 0, 0] },
      { kind: 'random', index: 1, record: broken, simulated: null, error: 'wrong count' },
    ]);
    // Pooled: act a = [0,2,4,1,0,0], sim s = [0,5,10,0,0,0] (the failed record is left out). n = 6.
    // Σa = 7, Σs = 15, Σas = 10+40 = 50, Σa² = 4+16+1 = 21, Σs² = 25+100 = 125.
    // Sxy = 50 − 7·15/6 = 32.5;  Saa = 21 − 49/6 = 77/6;  Sss = 125 − 225/6 = 87.5.
    expect(s.all).toBeCloseTo(32.5 / Math.sqrt((77 / 6) * 87.5), 12);
    expect(s.top).toBeCloseTo(1, 12); // [0,5,10] is exactly 2.5 × [0,2,4]
    expect(s.random).toBeNaN(); // the only simulated random record predicts a constant
    expect(s.records.map((r) => r.correlation)).toEqual([expect.closeTo(1, 12), Number.NaN, Number.NaN]);
    expect(s.records[2].error).toBe('wrong count');
    expect(s.failed).toBe(1);
    // JSON turns NaN into null: the breakdown survives serialisation.
    expect(JSON.parse(JSON.stringify(s)).random).toBeNull();
  });

  it('pearson is invariant to scaling the true activations (raw vs scaled does not matter for a linear scale)', () => {
    const act = [0.1, 0.7, -0.2, 1.3, 0.05];
    const sim = [0, 6, 0, 10, 1];
    expect(pearson(sim, act.map((a) => 3 * a + 1))).toBeCloseTo(pearson(sim, act), 12);
  });
});

describe('lenient reading of simulator replies', () => {
  const tokens = [' The', ' cat', ' sat'];
  const ok: [string, string][] = [
    ['token<TAB>value lines', ' The\t0\n cat\t7\n sat\t1'],
    ['numbered lines echoed back', '1\t The\t0\n2\t cat\t7\n3\t sat\t1'],
    ['a header, then tab lines', 'Here are the activations:\n The\t0\n cat\t7\n sat\t1\n'],
    ['bare numbers', '0\n7\n1'],
    ['a JSON list', 'Sure: [0, 7, 1]'],
    ['JSON pairs', '[[" The", 0], [" cat", 7], [" sat", 1]]'],
    ['JSON objects', '```json\n[{"token":" The","activation":0},{"token":" cat","activation":"7"},{"token":" sat","activation":1}]\n```'],
    ['numbers with junk', 'The: 0\ncat: **7**/10\nsat - 1.'],
    ['one line', '0, 7, 1'],
  ];
  for (const [what, reply] of ok) {
    it(`reads ${what}`, () => {
      expect(parseSimulation(reply, 3)).toEqual([0, 7, 1]);
    });
  }

  it('clamps to 0-10', () => {
    expect(parseSimulation('a\t-3\nb\t12\nc\t4.5', 3)).toEqual([0, 10, 4.5]);
  });

  it('rejects a wrong count with a reason naming the expected and found counts', () => {
    expect(() => parseSimulation(' The\t0\n cat\t7', 3)).toThrow(SimulationParseError);
    expect(() => parseSimulation(' The\t0\n cat\t7', 3)).toThrow(/expected 3 \(one per token\).*tab-separated lines: 2/);
    expect(() => parseSimulation('I cannot help with that.', tokens.length)).toThrow(/found no numbers/);
  });
});

describe('prompts', () => {
  it('the explainer prompt lists token<TAB>activation lines on the 0-10 scale and marks synthetic records', () => {
    const m = explainerMessages({
      layer: 2,
      neuron: 7,
      records: [{ tokens: [' a', '\n', ' cat'], activations: [-0.5, 0.2, 2] }],
      synthetic: [{ tokens: [' cats'], activations: [3] }],
      maxActivation: 2,
    });
    const user = m[1].content;
    expect(user).toContain('<start>\n a\t0\n\\n\t1\n cat\t10\n<end>');
    expect(user).toMatch(/Excerpt 2 \(synthetic[^\n]*\n<start>\n cats\t10\n<end>/);
    expect(user.trimEnd().endsWith('the main thing this neuron does is find')).toBe(true);
    expect(simulatorMessages('cats', [' a', ' cat'])[1].content).toContain('<start>\n1\t a\n2\t cat\n<end>');
  });

  it('cleans explanations', () => {
    expect(cleanExplanation('the main thing this neuron does is find words about cats.')).toBe('words about cats');
    expect(cleanExplanation('"plural nouns"\nbecause ...')).toBe('plural nouns');
    expect(cleanExplanation('  **the word "cat"**.')).toBe('the word "cat"');
    expect(cleanExplanation('')).toBe('');
  });
});

/** Records of random filler tokens where `planted` fires (activation 5 ± noise) and everything else is ≤ 0.5. */
function plantedRecords(seed: number, count: number, planted: string, rate: number): ActivationRecord[] {
  const rand = rng(seed);
  const filler = [' the', ' of', ' and', ' a', ' to', ' in', ' is', ' was', ' he', ' it', ' for', ' on', ' with', ' as', ' his'];
  return Array.from({ length: count }, () => {
    const tokens: string[] = [];
    const activations: number[] = [];
    for (let i = 0; i < 16; i++) {
      const hit = rand() < rate;
      tokens.push(hit ? planted : filler[Math.floor(rand() * filler.length)]);
      activations.push(hit ? 4 + rand() : rand() * 0.5 - 0.1);
    }
    return { tokens, activations };
  });
}

function plantedNeuron(planted: string): NeuronRecords {
  return { layer: 1, neuron: 3, top: plantedRecords(1, 20, planted, 0.15), random: plantedRecords(2, 10, planted, 0.02), maxActivation: 5 };
}

describe('offline explainer and simulator', () => {
  it('finds the planted token', async () => {
    const nr = plantedNeuron(' zebra');
    const items = associatedItems(splitRecords(nr).explain, nr.maxActivation);
    expect(items.tokens[0].tokens).toEqual([' zebra']);
    expect(items.tokens[0].level).toBeGreaterThanOrEqual(8);
    const text = await offlineExplainer().explain({ layer: 1, neuron: 3, records: splitRecords(nr).explain, synthetic: [], maxActivation: 5 });
    expect(text).toMatch(/^tokens: " zebra" \(\d+\)/);
  });

  it('scores a planted neuron near 1, from the explanation string alone', async () => {
    const run = await explainNeuron(plantedNeuron(' zebra'), offlineExplainer(), offlineSimulator());
    expect(run.score.all).toBeGreaterThan(0.9);
    expect(run.score.records).toHaveLength(10);
    expect(run.counts).toEqual({ explain: 10, synthetic: 0, scoreTop: 5, scoreRandom: 5 });
  });

  it('is deterministic', async () => {
    const a = await explainNeuron(plantedNeuron(' zebra'), offlineExplainer(), offlineSimulator());
    const b = await explainNeuron(plantedNeuron(' zebra'), offlineExplainer(), offlineSimulator());
    expect(b.explanation).toBe(a.explanation);
    expect(b.score.all).toBe(a.score.all);
  });

  it('lists a bigram when the token fires only after a particular token', () => {
    const records: ActivationRecord[] = [];
    for (let i = 0; i < 6; i++) {
      records.push({ tokens: [' the', ' cat', ' saw', ' a', ' cat'], activations: [0, 8, 0, 0, 1] });
    }
    const items = associatedItems(records, 8);
    expect(items.bigrams.map((b) => b.tokens)).toContainEqual([' the', ' cat']);
    const predicted = simulateFromItems(parseExplanation(renderExplanation(items)), [' the', ' cat', ' saw', ' a', ' cat']);
    expect(predicted[1]).toBeGreaterThan(predicted[4]);
  });

  it('renders and parses back tokens with quotes, commas, parentheses and newlines', () => {
    const items = {
      tokens: [{ tokens: ['"'], level: 9 }, { tokens: [', (x)'], level: 4 }, { tokens: ['\n'], level: 3 }],
      bigrams: [{ tokens: [' tokens:', ' "bigrams:"'], level: 7 }],
    };
    const text = renderExplanation(items);
    expect(parseExplanation(text)).toEqual(items);
    expect(parseExplanation('tokens: none; bigrams: none')).toEqual({ tokens: [], bigrams: [] });
    expect(parseExplanation('tokens: " cat"')).toEqual({ tokens: [{ tokens: [' cat'], level: 10 }], bigrams: [] });
  });

  it('the simulator matches exactly, and at half level up to case and spaces', () => {
    const items = parseExplanation('tokens: " Cat" (8); bigrams: " the" " dog" (6)');
    expect(simulateFromItems(items, [' Cat', 'cat', ' the', ' dog', ' dog'])).toEqual([8, 4, 0, 6, 0]);
  });

  it('the uplift scores both explanations on the same held-out records', async () => {
    const nr = plantedNeuron(' zebra');
    // A dream that is all zebras: more evidence for the same token.
    const dream: ActivationRecord = { tokens: [' zebra', ' zebra', ' and', ' zebra'], activations: [6, 5.5, 0.1, 6] };
    const u = await explainUplift(nr, offlineExplainer(), offlineSimulator(), [dream]);
    expect(u.without.withDreams).toBe(false);
    expect(u.with.withDreams).toBe(true);
    expect(u.with.counts.synthetic).toBe(1);
    expect(u.with.score.records.map((r) => r.tokens)).toEqual(u.without.score.records.map((r) => r.tokens));
    expect(u.delta).toBeCloseTo(u.with.score.all - u.without.score.all, 12);
  });
});

describe('uplift batch helpers', () => {
  it('chooses the same neurons for the same seed, the same number from every layer', () => {
    const a = chooseNeurons(4, 512, 6, 0);
    expect(a).toEqual(chooseNeurons(4, 512, 6, 0));
    expect(a).toHaveLength(24);
    for (let l = 0; l < 4; l++) expect(a.filter((n) => n.layer === l)).toHaveLength(6);
    expect(new Set(a.map((n) => `${n.layer}:${n.neuron}`)).size).toBe(24);
    expect(a.every((n) => n.neuron >= 0 && n.neuron < 512)).toBe(true);
    expect(chooseNeurons(4, 512, 6, 1)).not.toEqual(a);
  });

  it('summarises deltas (mean, standard error, signs) as computed by hand', () => {
    const run = (all: number) => ({ score: { all } }) as unknown as ExplanationRun;
    const rows: UpliftRow[] = [
      { layer: 0, neuron: 1, maxActivation: 1, without: run(0.2), with: run(0.5), delta: 0.3 },
      { layer: 0, neuron: 2, maxActivation: 1, without: run(0.4), with: run(0.3), delta: -0.1 },
      { layer: 1, neuron: 3, maxActivation: 1, without: run(Number.NaN), with: run(0.1), delta: 0.1 },
      { layer: 1, neuron: 4, maxActivation: 0, skipped: 'never fires' },
    ];
    const s = summarizeUplift(rows);
    // Deltas 0.3, −0.1, 0.1: mean 0.1; deviations 0.2, −0.2, 0 → sample sd √(0.08/2) = 0.2, se 0.2/√3.
    expect(s).toMatchObject({ neurons: 4, skipped: 1, better: 2, worse: 1, same: 0 });
    expect(s.meanDelta).toBeCloseTo(0.1, 12);
    expect(s.seDelta).toBeCloseTo(0.2 / Math.sqrt(3), 12);
    expect(s.meanWithout).toBeCloseTo((0.2 + 0.4 + 0) / 3, 12); // NaN counts as 0
    expect(s.meanWith).toBeCloseTo(0.3, 12);
  });
});

describe('store side', () => {
  it('builds records from a scan page: top by rank, max from the corpus statistics', () => {
    const ex = (rank: number, max: number) => ({ rank, window: rank, docId: 'd', start: 0, text: 'ab', ids: [1, 2], tokens: ['a', 'b'], acts: [0, max], max, maxAt: 1 });
    const fake = {
      scanFor: () => ({ id: 'scan-1', corpus: 'brown+sotu:held-out' }),
      neuronPage: () => ({ top: [ex(2, 3), ex(1, 4), ex(3, 2)], random: [ex(1, 0.5)], stats: { max: 4.5 } }),
    } as unknown as ExperimentHistory;
    const got = recordsFromStore(fake, 'fp', 1, 2)!;
    expect(got.scanId).toBe('scan-1');
    expect(got.records.top.map((r) => r.activations[1])).toEqual([4, 3, 2]);
    expect(got.records.random).toHaveLength(1);
    expect(got.records.maxActivation).toBe(4.5);
    const empty = { ...fake, neuronPage: () => ({ top: [], random: [], stats: null }) } as unknown as ExperimentHistory;
    expect(recordsFromStore(empty, 'fp', 1, 2)).toBeNull();
    expect(recordsFromStore({ ...fake, scanFor: () => null } as unknown as ExperimentHistory, 'fp', 1, 2)).toBeNull();
  });

  it('saves the explanation, its scores (NaN as null) and how it was made', async () => {
    const run = await explainNeuron(plantedNeuron(' zebra'), offlineExplainer(), offlineSimulator());
    const saved: unknown[] = [];
    const row = saveExplanation({ addExplanation: (e) => (saved.push(e), { ...e, id: 'x' }) as never }, run, { modelFingerprint: 'fp', records: 'test', llm: { baseURL: 'http://h/v1', model: 'm' } });
    expect(row.id).toBe('x');
    const e = explanationRow(run, { modelFingerprint: 'fp', records: 'test' });
    expect(e).toMatchObject({ modelFingerprint: 'fp', layer: 1, neuron: 3, text: run.explanation, source: 'offline', score: run.score.all, scanId: null });
    expect(e.meta.perRecord).toHaveLength(10);
    expect(saved[0]).toMatchObject({ meta: { llm: { baseURL: 'http://h/v1', model: 'm' } } });
  });
});
