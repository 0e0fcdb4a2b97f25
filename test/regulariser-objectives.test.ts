// Regularisers are objectives of the same kind as a target's: fluency (the model's cross-entropy of the decoded
// tokens) and manifold distance have per-sequence values whose means are the batch penalties (fluencyPenalty,
// manifoldDistance), the fused and unfused next-token losses agree, and `target − λ·fluency − μ·manifold` composed by
// weightedObjective has the value and gradient of that sum of its terms, the gradient also by finite differences.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { runObjective, withPrefix } from '../src-main/dream/continuous.js';
import { neuronTarget, targetObjective, weightedObjective, type Objective } from '../src-main/dream/objectives.js';
import { fluencyObjective, fluencyPenalty, manifoldDistance, manifoldObjective } from '../src-main/dream/regularisers.js';
import { rng } from '../src-main/corpus/rng.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { FIXTURE } from './helpers/shared.js';
import { searchScore } from '../src-main/dream/beam.js';
import type { HardEval } from '../src-main/dream/hard.js';
import { activationTerm, fluencyTerm, judgeTerm, repeats, repetitionTerm, weightedTextScore } from '../src-main/dream/textScore.js';

let lm: LoadedModel;
const TARGETS = [
  [464, 2068, 7586, 21831, 18045],
  [40, 588, 262, 3290, 13],
];

beforeAll(async () => {
  await initBackend('cpu');
  lm = await loadModel(FIXTURE);
});
afterAll(() => lm.model.dispose());

/** Embeddings near the targets' own (so the fluency term is in a sensible range), perturbed at random. */
function embeds(): tf.Tensor3D {
  const rand = rng(11);
  return tf.tidy(() => {
    const e = lm.model.embed(tf.tensor2d(TARGETS, [2, 5], 'int32')) as tf.Tensor3D;
    return tf.add(e, tf.mul(tf.tensor3d(Float32Array.from({ length: e.size }, () => rand() - 0.5), e.shape), 0.05)) as tf.Tensor3D;
  });
}

/** The objective's summed value as a function of the free embeddings, through the dream runner. */
const valueOf = (o: Objective) => (e: tf.Tensor) => {
  const { input, mask } = withPrefix(lm.model, e as tf.Tensor3D);
  return tf.sum(o.value(runObjective(lm.model, o, { embeds: input }, mask, e as tf.Tensor3D))) as tf.Scalar;
};

it('per-sequence fluency and manifold values average to the batch penalties; fused and logits paths agree', () => {
  const e = embeds();
  const fluency = fluencyObjective(TARGETS);
  const [perRow, viaLogits, batch, manifoldRows, manifoldBatch] = tf.tidy(() => {
    const { input, mask } = withPrefix(lm.model, e);
    const fused = fluency.value(runObjective(lm.model, fluency, { embeds: input }, mask, e));
    // The same term beside an objective that needs logits: the loss then comes from the logits.
    const withLogits = { ...fluency, needsLogits: true };
    const unfused = withLogits.value(runObjective(lm.model, withLogits, { embeds: input }, mask, e));
    const penalty = fluencyPenalty(lm.model.run({ embeds: input }).logits!, tf.tensor2d(TARGETS, [2, 5], 'int32'));
    const m = manifoldObjective(lm.model).value({ cache: new Map(), embeds: e });
    return [fused.arraySync(), unfused.arraySync(), penalty.dataSync()[0], m.arraySync(), manifoldDistance(lm.model, e).dataSync()[0]] as const;
  });
  expect(perRow).toHaveLength(2);
  perRow.forEach((v, i) => expect(v).toBeCloseTo(viaLogits[i], 4));
  expect((perRow[0] + perRow[1]) / 2).toBeCloseTo(batch, 4);
  expect(perRow[0]).not.toBeCloseTo(perRow[1], 2);
  expect((manifoldRows[0] + manifoldRows[1]) / 2).toBeCloseTo(manifoldBatch, 5);
  e.dispose();
});

it('target − 0.3·fluency − 0.5·manifold: value and gradient are those of the weighted sum of its terms, the gradient also by finite differences', () => {
  const e = embeds();
  const parts = [targetObjective(neuronTarget(1, 7)), fluencyObjective(TARGETS), manifoldObjective(lm.model)];
  const weights = [1, -0.3, -0.5];
  const total = weightedObjective(parts.map((objective, i) => ({ objective, weight: weights[i] })));
  expect(total.description).toBe('1·(mean L1N7) − 0.3·(fluency CE) − 0.5·(manifold distance)');
  const measure = (o: Objective) =>
    tf.tidy(() => {
      const { value, grad } = tf.valueAndGrad(valueOf(o))(e);
      return { v: value.dataSync()[0], g: Array.from(grad.dataSync()) };
    });
  const t = measure(total);
  const each = parts.map(measure);
  expect(t.v).toBeCloseTo(each.reduce((a, p, i) => a + weights[i] * p.v, 0), 4);
  t.g.forEach((g, j) => expect(g).toBeCloseTo(each.reduce((a, p, i) => a + weights[i] * p.g[j], 0), 4));
  expect(each.every((p) => p.g.some((g) => Math.abs(g) > 1e-5))).toBe(true);
  const rand = rng(7);
  const dir = tf.tensor3d(Float32Array.from({ length: e.size }, () => rand() * 2 - 1), e.shape);
  const h = 1e-2;
  const f = (s: number) => tf.tidy(() => valueOf(total)(tf.add(e, tf.mul(dir, s))).dataSync()[0]);
  const numeric = (f(h) - f(-h)) / (2 * h);
  const d = dir.dataSync();
  const analytic = t.g.reduce((a, g, j) => a + g * d[j], 0);
  expect(Math.abs(numeric - analytic)).toBeLessThan(0.02 * Math.max(1, Math.abs(analytic)));
  tf.dispose([e, dir]);
});

it('the discrete searches score a text by the same composition: activation − λ·CE − ρ·repeated words + judge', () => {
  const e = (text: string, value: number, ce: number) => ({ text, value, ce }) as unknown as HardEval;
  const judge = (text: string) => 0.1 * text.length;
  const texts = [e('the cat sat on the mat', 2, 3), e('a dog a dog a dog', 5, 1.5), e('no repeats here', -1, 4)];
  // By hand: "the" twice (1 repeat); "a" and "dog" three times each (4 repeats); none.
  expect(texts.map((t) => repeats(t.text))).toEqual([1, 4, 0]);
  const score = weightedTextScore([
    { term: activationTerm, weight: 1 },
    { term: fluencyTerm, weight: -0.5 },
    { term: repetitionTerm, weight: -2 },
    { term: judgeTerm(judge), weight: 1 },
  ]);
  const byHand = [2 - 1.5 - 2 + 2.2, 5 - 0.75 - 8 + 1.7, -1 - 2 - 0 + 1.5];
  texts.forEach((t, i) => {
    expect(score(t)).toBeCloseTo(byHand[i], 10);
    expect(searchScore(t, 0.5, 2, judge)).toBeCloseTo(byHand[i], 10);
  });
  expect(score(e('x', Number.NaN, 1))).toBe(-Infinity);
  expect(searchScore(e('x', 1, Number.POSITIVE_INFINITY), 0, 0)).toBe(-Infinity);
});
