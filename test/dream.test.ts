// The dreaming engine's gradients against finite differences on the shared fixture (cpu, the reference backend).
// Decoders, hard evaluation and dream runs: test/helpers/dreamSuite.ts, run per backend by test/dream-*.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { withPrefix } from '../src-main/dream/continuous.js';
import { directionTarget, neuronSumTarget, neuronTarget, targetObjective, type Objective } from '../src-main/dream/objectives.js';
import { fluencyPenalty, manifoldDistance } from '../src-main/dream/regularisers.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { rng } from '../src-main/corpus/rng.js';
import { FIXTURE } from './helpers/shared.js';

let lm: LoadedModel;
const target = { kind: 'neuron' as const, layer: 1, neuron: 7 };

beforeAll(async () => {
  await initBackend('cpu'); // finite differences want the reference backend
  lm = await loadModel(FIXTURE);
});
afterAll(() => lm.model.dispose());

/** Central finite differences of f at a few coordinates of x, against tf.grad. */
function checkGradient(f: (x: tf.Tensor3D) => tf.Scalar, x: tf.Tensor3D, coords = 12, eps = 1e-2): number {
  const grad = tf.tidy(() => tf.grad((e: tf.Tensor) => f(e as tf.Tensor3D))(x).dataSync().slice());
  const base = x.dataSync().slice();
  const rand = rng(99);
  let worst = 0;
  for (let c = 0; c < coords; c++) {
    const i = Math.floor(rand() * base.length);
    const at = (delta: number) =>
      tf.tidy(() => {
        const v = base.slice();
        v[i] += delta;
        return f(tf.tensor3d(v, x.shape)).dataSync()[0];
      });
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    worst = Math.max(worst, Math.abs(fd - grad[i]) / Math.max(1e-3, Math.abs(fd) + Math.abs(grad[i])));
  }
  return worst;
}

function objectiveFn(obj: Objective) {
  return (e: tf.Tensor3D) => {
    const { input, mask } = withPrefix(lm.model, e);
    const r = lm.model.run({ embeds: input }, { hooks: obj.hooks, stopAtLayer: obj.maxLayer + 1 });
    return tf.sum(obj.value({ cache: r.cache, mask })) as tf.Scalar;
  };
}

describe('gradients match finite differences', () => {
  const ids = [[464, 2068, 7586, 21831, 18045], [625, 262, 16931, 3290, 13]];
  const emb = () => tf.tidy(() => lm.model.embed(tf.tensor2d(ids, [2, 5], 'int32')));
  const dir = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 1));
  const cases: [string, () => Objective][] = [
    ['neuron mean', () => targetObjective(neuronTarget(1, 7))],
    ['neuron mean of sigmoid', () => targetObjective(neuronTarget(1, 7), { transform: 'sigmoid' })],
    ['neuron at last position', () => targetObjective(neuronTarget(0, 3), { reduce: 'last' })],
    ['residual direction', () => targetObjective(directionTarget('blocks.1.hook_resid_mid', dir, 1))],
    ['weighted neuron sum', () => targetObjective(neuronSumTarget([{ layer: 0, neuron: 3, weight: 1 }, { layer: 1, neuron: 7, weight: -0.5 }]))],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const x = emb();
      expect(checkGradient(objectiveFn(make()), x)).toBeLessThan(2e-2);
      x.dispose();
    });
  }
  it('fluency penalty (cross-entropy of decoded targets)', () => {
    const x = emb();
    const targets = tf.tensor2d(ids, [2, 5], 'int32');
    const f = (e: tf.Tensor3D) => {
      const { input } = withPrefix(lm.model, e);
      return fluencyPenalty(lm.model.run({ embeds: input }).logits!, targets);
    };
    expect(checkGradient(f, x)).toBeLessThan(2e-2);
    tf.dispose([x, targets]);
  });
  it('the fused fluency path (gradient methods) equals fluencyPenalty, in value and gradient', () => {
    const x = emb();
    const targets = tf.tensor2d(ids, [2, 5], 'int32');
    const viaLogits = (e: tf.Tensor) => fluencyPenalty(lm.model.run({ embeds: withPrefix(lm.model, e as tf.Tensor3D).input }).logits!, targets);
    const fused = (e: tf.Tensor) => {
      const next = tf.concat([targets, tf.zeros([2, 1], 'int32')], 1) as tf.Tensor2D;
      const loss = lm.model.runWithLoss({ embeds: withPrefix(lm.model, e as tf.Tensor3D).input }, next).loss;
      return tf.mean(tf.slice(loss, [0, 0], [2, 5])) as tf.Scalar;
    };
    const measure = (f: (e: tf.Tensor) => tf.Scalar) => {
      const r = tf.tidy(() => tf.valueAndGrad(f)(x));
      const out = [r.value.dataSync()[0], r.grad.dataSync().slice()] as const;
      tf.dispose([r.value, r.grad]);
      return out;
    };
    const [a, b] = [measure(viaLogits), measure(fused)];
    expect(Math.abs(a[0] - b[0])).toBeLessThan(1e-5);
    expect(a[0]).toBeGreaterThan(1);
    let worst = 0;
    a[1].forEach((g, i) => (worst = Math.max(worst, Math.abs(g - b[1][i]))));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([x, targets]);
  });
  it('embedding-manifold distance', () => {
    const x = tf.tidy(() => tf.add(emb(), tf.mul(0.05, tf.randomNormal([2, 5, 32], 0, 1, 'float32', 3))) as tf.Tensor3D);
    expect(checkGradient((e) => manifoldDistance(lm.model, e), x)).toBeLessThan(2e-2);
    x.dispose();
  });
});
