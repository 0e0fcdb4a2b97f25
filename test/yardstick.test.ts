// The yardstick (dream/yardstick.ts heldOutMax) against the dreams' own measurement: the maximum of measureIds
// (the hard evaluation every dream gets, logits and loss included) over the same held-out windows.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { heldOutStream } from '../src-main/explain/records.js';
import { measureIds } from '../src-main/dream/hard.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import { heldOutMax } from '../src-main/dream/yardstick.js';
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
