// The yardstick (dream/yardstick.ts heldOutMax) against the dreams' own measurement: the maximum of measureIds
// (the hard evaluation every dream gets, logits and loss included) over the same held-out windows.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { heldOutStream } from '../src-main/explain/records.js';
import { measureIds } from '../src-main/dream/hard.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import { heldOutMax } from '../src-main/dream/yardstick.js';
import { dreamConfig } from '../src-main/dream/config.js';
import { dreamLoop } from '../src-main/dream/loop.js';
import type { DreamMethod } from '../src-main/dream/method.js';
import { loadShippedJudge } from '../src-main/readability/shipped.js';
import { editsAttested } from '../src-main/readability/attestedEdits.js';
import { seedPoolDocuments, seedSourceFrom } from '../src-main/dream/seedPool.js';
import { dreamToEnd, runDream } from '../src-main/dream/run.js';
import type { Dream } from '../src-main/dream/records.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { FIXTURE } from './helpers/shared.js';

let lm: LoadedModel;
beforeAll(async () => {
  expect((await initBackend('wasm')).name).toBe('wasm');
  lm = await loadModel(FIXTURE);
});
afterAll(() => lm?.model.dispose());

it('heldOutMax equals the largest hard value of the same windows, measured as dreams are, and marks its token', async () => {
  const target = neuronTarget(1, 7);
  const tokens = 2000;
  const got = await heldOutMax(lm.model, lm.tokenizer, target, tokens, 4);
  const stream = (await heldOutStream(lm.tokenizer)).tokens;
  const W = Math.min(64, lm.model.config.nPositions - 1);
  const rows: number[][] = [];
  for (let r = 0; r < tokens; r += W) rows.push(Array.from(stream.subarray(r, Math.min(tokens, r + W))));
  const evals = await measureIds(lm.model, lm.tokenizer, target, rows, 'max');
  const best = evals.reduce((a, e) => (e.max > a.max ? e : a));
  expect(got.tokens).toBe(tokens);
  expect(got.max).toBeCloseTo(best.max, 5);
  expect(got.text).toBe(best.text);
  const at = best.perToken.indexOf(best.max);
  expect(got.snippet).toContain(`⟦${best.tokens[at]}⟧`);
});

it('for mean dreams, heldOutMax is the largest mean of as many consecutive held-out tokens, from the same activations', async () => {
  const target = neuronTarget(1, 7);
  const tokens = 1000;
  const span = 5;
  const got = await heldOutMax(lm.model, lm.tokenizer, target, tokens, 4, { reduce: 'mean', span });
  const stream = (await heldOutStream(lm.tokenizer)).tokens;
  const W = Math.min(64, lm.model.config.nPositions - 1);
  const rows: number[][] = [];
  for (let r = 0; r < tokens; r += W) rows.push(Array.from(stream.subarray(r, Math.min(tokens, r + W))));
  const evals = await measureIds(lm.model, lm.tokenizer, target, rows, 'max');
  // Every span of every window, its mean summed directly (not by a running sum).
  let best = { mean: -Infinity, text: '' };
  for (const e of evals) {
    for (let s = 0; s + span <= e.perToken.length; s++) {
      const m = e.perToken.slice(s, s + span).reduce((a, b) => a + b, 0) / span;
      if (m > best.mean) best = { mean: m, text: e.text };
    }
  }
  expect(got.reduce).toBe('mean');
  expect(got.span).toBe(span);
  expect(got.max).toBeCloseTo(best.mean, 5);
  expect(got.text).toBe(best.text);
  // A mean over five tokens is below the single strongest token.
  expect(got.max).toBeLessThan((await heldOutMax(lm.model, lm.tokenizer, target, tokens, 4)).max);
});

it('an unedited seed is corpus text: never on the readability front nor the most activating readable dream', async () => {
  const { judge } = await loadShippedJudge(lm.tokenizer);
  const texts = [' The committee met on Monday.', ' It said the budget was ready.'];
  const ids = texts.map((t) => lm.tokenizer.encode(t));
  // A method that never edits its seeds: every dream it shows is a seed as read from the corpus.
  const stay: DreamMethod = {
    name: 'stay',
    step: async () => ({ soft: 0, fluencyCE: Number.NaN, forwardEquivalents: 0 }),
    current: async () => ids.map((s) => s.slice()),
    origins: async () => texts.map((seedText) => ({ seedText, seedValue: 0, seedDoc: 'x', edits: 0 })),
    dispose: () => undefined,
  };
  const cfg = dreamConfig({ target: { kind: 'neuron', layer: 1, neuron: 7 }, steps: 2, every: 1 });
  const gen = dreamLoop({ model: lm.model, tokenizer: lm.tokenizer, judge }, neuronTarget(1, 7), stay, cfg);
  let n = await gen.next();
  while (!n.done) n = await gen.next();
  const res = n.value;
  expect(res.initial.map((d) => d.readability?.readable)).toContain(true);
  expect(res.best).not.toBeNull();
  expect(res.pareto).toEqual([]);
  expect(res.bestReadable).toBeNull();
});

it('seeded with --edit-context attested keeps only edits inside a trigram of the judge text; without it, some are not', async () => {
  const { judge } = await loadShippedJudge(lm.tokenizer);
  const pool = (await seedPoolDocuments('brown', lm.tokenizer)).slice(0, 6);
  const seedSource = seedSourceFrom(lm.model, lm.tokenizer, pool, 120);
  const edited = async (editContext: 'any' | 'attested') => {
    const dreams: Dream[] = [];
    const req = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'seeded' as const, steps: 6, every: 1, seqLen: 8, batch: 4, candidates: 8, seedEdits: 'any' as const, editContext };
    await dreamToEnd(runDream({ model: lm.model, tokenizer: lm.tokenizer, judge, seedSource }, req), (r) => dreams.push(...r.dreams));
    return dreams.filter((d) => d.origin && d.origin.edits > 0);
  };
  const kept = await edited('attested');
  expect(kept.length).toBeGreaterThan(0);
  for (const d of kept) expect(editsAttested(judge, d.origin!.seedText, d.text), d.text).toBe(true);
  expect((await edited('any')).some((d) => !editsAttested(judge, d.origin!.seedText, d.text))).toBe(true);
});
