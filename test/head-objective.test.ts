// An attention head's output norm as an objective (L<layer>H<head>): the new hook (attn.hook_z) decomposes the
// attention output exactly (Σ_h z_h·W_O,h + b_O = hook_attn_out), the target's value is that norm computed here in
// plain arithmetic, `0.7·L1H0 − 0.3·L0N3` has the value and gradient of the weighted sum of its terms (the gradient
// also by finite differences), the description round-trips through the expression syntax and the store, and the CLI
// dreams for a head with every reported value re-measured.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { dreamConfig } from '../src-main/dream/config.js';
import { expressionTarget, formatObjectiveExpression, parseObjectiveExpression, sumTerms } from '../src-main/dream/objectiveExpression.js';
import { headTarget, neuronTarget, targetObjective, weightedSumTarget } from '../src-main/dream/objectives.js';
import { buildTarget } from '../src-main/dream/run.js';
import { rng } from '../src-main/corpus/rng.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { openStore } from '../src-main/store/open.js';
import { modelRefOf } from '../src-main/store/persist.js';
import { runCli } from './helpers/cli.js';
import { FIXTURE } from './helpers/shared.js';

let lm: LoadedModel;
const IDS = [464, 2068, 7586, 21831, 18045, 625];

beforeAll(async () => {
  await initBackend('cpu');
  lm = await loadModel(FIXTURE);
});
afterAll(() => lm.model.dispose());

const rowsOf = (t: tf.Tensor) => t.arraySync() as number[][][];

it('hook_z splits the attention output into heads, and a head target is the norm of its share', () => {
  const { nHead, dModel } = lm.config;
  const dh = dModel / nHead;
  const L = 1;
  const run = tf.tidy(() => {
    const r = lm.model.run({ ids: tf.tensor2d([IDS], [1, IDS.length], 'int32') }, { hooks: [`blocks.${L}.attn.hook_z`, `blocks.${L}.hook_attn_out`] });
    return { z: (r.cache.get(`blocks.${L}.attn.hook_z`) as tf.Tensor).arraySync() as number[][][][], out: rowsOf(r.cache.get(`blocks.${L}.hook_attn_out`)!) };
  });
  const W = lm.model.weights.blocks[L].attnOut.W.arraySync() as number[][]; // [d, d]
  const b = lm.model.weights.blocks[L].attnOut.b.arraySync() as number[];
  const head = (t: number, h: number) => Array.from({ length: dModel }, (_, j) => run.z[0][t][h].reduce((a, v, i) => a + v * W[h * dh + i][j], 0));
  const target = headTarget(lm.model, L, 2);
  const values = tf.tidy(() => {
    const r = lm.model.run({ ids: tf.tensor2d([IDS], [1, IDS.length], 'int32') }, { hooks: target.hooks });
    return target.perToken(r.cache).arraySync() as number[][];
  });
  IDS.forEach((_, t) => {
    const sum = b.map((bj, j) => bj + Array.from({ length: nHead }, (_, h) => head(t, h)[j]).reduce((a, v) => a + v, 0));
    sum.forEach((v, j) => expect(v).toBeCloseTo(run.out[0][t][j], 4));
    expect(values[0][t]).toBeCloseTo(Math.hypot(...head(t, 2)), 4);
  });
  expect(() => headTarget(lm.model, 1, nHead)).toThrow(new RegExp(`head ${nHead} is out of range: layer 1 has heads 0-${nHead - 1}`));
});

it('0.7·L1H0 − 0.3·L0N3: value and gradient equal the weighted sum of its terms, the gradient also by finite differences', () => {
  const head = headTarget(lm.model, 1, 0);
  const neuron = neuronTarget(0, 3);
  const composed = targetObjective(weightedSumTarget([{ target: head, weight: 0.7 }, { target: neuron, weight: -0.3 }]), { reduce: 'mean' });
  const parts = [targetObjective(head, { reduce: 'mean' }), targetObjective(neuron, { reduce: 'mean' })];
  const embeds = tf.tidy(() => lm.model.embed(tf.tensor2d([IDS], [1, IDS.length], 'int32')));
  const valueOf = (o: typeof composed) => (e: tf.Tensor) => {
    const run = lm.model.run({ embeds: e as tf.Tensor3D }, { hooks: o.hooks });
    return tf.sum(o.value({ cache: run.cache })) as tf.Scalar;
  };
  const measure = (o: typeof composed) =>
    tf.tidy(() => {
      const { value, grad } = tf.valueAndGrad(valueOf(o))(embeds);
      return { v: value.dataSync()[0], g: rowsOf(grad) };
    });
  const c = measure(composed);
  const [h, n] = parts.map(measure);
  expect(c.v).toBeCloseTo(0.7 * h.v - 0.3 * n.v, 5);
  c.g[0].forEach((row, t) => row.forEach((g, i) => expect(g).toBeCloseTo(0.7 * h.g[0][t][i] - 0.3 * n.g[0][t][i], 5)));
  expect(c.g[0].flat().some((g) => Math.abs(g) > 1e-4)).toBe(true);
  const rand = rng(5);
  const dir = tf.tensor3d(Float32Array.from({ length: embeds.size }, () => rand() * 2 - 1), embeds.shape as [number, number, number]);
  const eps = 1e-2;
  const f = (s: number) => tf.tidy(() => valueOf(composed)(tf.add(embeds, tf.mul(dir, s))).dataSync()[0]);
  const numeric = (f(eps) - f(-eps)) / (2 * eps);
  const dirData = rowsOf(dir);
  const analytic = c.g[0].reduce((a, row, t) => a + row.reduce((s, g, i) => s + g * dirData[0][t][i], 0), 0);
  expect(Math.abs(numeric - analytic)).toBeLessThan(0.02 * Math.max(1, Math.abs(analytic)));
  tf.dispose([embeds, dir]);
});

it('L1H2 - 0.5*L0N3 reads as a sum with a head term, formats back, and its description round-trips through the store', () => {
  const spec = expressionTarget('L1H2 - 0.5*L0N3 + 0.25*l1h2');
  expect(spec).toEqual({ kind: 'sum', terms: [{ layer: 0, neuron: 3, weight: -0.5 }], heads: [{ layer: 1, head: 2, weight: 1.25 }] });
  expect(expressionTarget('L1H2')).toEqual({ kind: 'head', layer: 1, head: 2 });
  const text = formatObjectiveExpression(parseObjectiveExpression('L1H2 - 0.5*L0N3'));
  expect(parseObjectiveExpression(text)).toEqual(parseObjectiveExpression('L1H2 - 0.5*L0N3'));
  const built = buildTarget(lm.model, spec);
  expect(built.description).toBe('-0.5·L0N3 + 1.25·L1H2');
  const store = openStore(':memory:');
  try {
    const id = store.startDreamRun(modelRefOf(lm, FIXTURE), dreamConfig({ target: spec, method: 'embed' }));
    const back = store.getDreamRun(id)!;
    expect(back.config.target).toEqual(spec);
    expect(back.target).toBe('−0.5·L0N3 + 1.25·L1H2');
    expect(formatObjectiveExpression(sumTerms(back.config.target as Extract<typeof spec, { kind: 'sum' }>))).toBe('-0.5*L0N3 + 1.25*L1H2');
  } finally {
    store.close();
  }
});

it('the CLI dreams for a head; each reported value is the head norm of the re-tokenised text, and a head out of range is named', async () => {
  const r = await runCli(['dream', '--model', FIXTURE, '--backend', 'cpu', '--objective', 'L1H0', '--method', 'embed', '--steps', '3', '--every', '3', '--seq-len', '5', '--batch', '2', '--json', '--db', ':memory:']);
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  expect(summary.target).toBe('L1H0');
  const best = summary.best as { ids: number[]; value: number; perToken: number[] };
  const target = headTarget(lm.model, 1, 0);
  const again = tf.tidy(() => {
    const ids = tf.tensor2d([[lm.config.bosTokenId, ...best.ids]], [1, best.ids.length + 1], 'int32');
    return (target.perToken(lm.model.run({ ids }, { hooks: target.hooks }).cache).arraySync() as number[][])[0].slice(1);
  });
  again.forEach((v, t) => expect(best.perToken[t]).toBeCloseTo(v, 3));
  expect(best.value).toBeCloseTo(again.reduce((a, v) => a + v, 0) / again.length, 3);

  const bad = await runCli(['dream', '--model', FIXTURE, '--backend', 'cpu', '--objective', 'L1H9 - L0N3', '--db', ':memory:']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--objective head term 1: head 9 is out of range: each layer has heads 0-/);
});
