// The fused, vocabulary-chunked unembedding + cross-entropy against the plain formula (log-softmax of h·Eᵀ, with
// tfjs's own gradients), on every CPU backend: values, the gradient for h (frozen weights) and for h and E
// (trainable), with a ragged last chunk and repeated targets.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { rng } from '../src-main/corpus/rng.js';
import { unembedCrossEntropy, type Unembedding } from '../src-main/model/ops.js';
import { frozenUnembedding } from '../src-main/model/weights.js';

const N = 12;
const d = 8;
const V = 70;
const chunk = 16; // 70 → 16,16,16,16,6

function data(seed: number) {
  const r = rng(seed);
  const h = Float32Array.from({ length: N * d }, () => (r() - 0.5) * 4);
  const E = Float32Array.from({ length: V * d }, () => (r() - 0.5) * 2);
  const t = Int32Array.from({ length: N }, (_, i) => (i < 3 ? 5 : Math.floor(r() * V))); // target 5 thrice
  const dy = Float32Array.from({ length: N }, () => r() + 0.5);
  return { h, E, t, dy };
}

// (int32 one-hot cast to float32: tfjs-wasm's float32 OneHot is wrong, see ops.ts.)
function plain(h: tf.Tensor2D, E: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor1D {
  const logp = tf.logSoftmax(tf.matMul(h, tf.transpose(E)));
  return tf.neg(tf.sum(tf.mul(logp, tf.cast(tf.oneHot(t, V), 'float32')), -1)) as tf.Tensor1D;
}

function close(a: tf.Tensor, b: tf.Tensor, tol: number) {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
  expect(worst).toBeLessThan(tol);
}

describe.each(['wasm', 'cpu'] as const)('unembedCrossEntropy on %s', (backend) => {
  afterAll(() => tf.disposeVariables());

  it('matches log-softmax cross-entropy and its gradients, trainable and frozen', async () => {
    await initBackend(backend);
    const { h: hd, E: Ed, t: td, dy: dyd } = data(7);
    tf.tidy(() => {
      const h = tf.tensor2d(hd, [N, d]);
      const E = tf.tensor2d(Ed, [V, d]);
      const t = tf.tensor1d(td, 'int32');
      const dy = tf.tensor1d(dyd);
      const ref = tf.grads((hh: tf.Tensor, EE: tf.Tensor) => plain(hh as tf.Tensor2D, EE as tf.Tensor2D, t));
      const [rh, rE] = ref([h, E], dy);
      const want = plain(h, E, t);
      expect(tf.max(want).dataSync()[0]).toBeGreaterThan(1); // not a trivial regime

      const trainable: Unembedding = { E, chunk };
      close(unembedCrossEntropy(h, trainable, t), want, 1e-5);
      const [gh, gE] = tf.grads((hh: tf.Tensor, EE: tf.Tensor) => unembedCrossEntropy(hh as tf.Tensor2D, { E: EE as tf.Tensor2D, chunk }, t))([h, E], dy);
      close(gh, rh, 1e-5);
      close(gE, rE, 1e-5);

      const frozen = frozenUnembedding(E, Ed, chunk);
      close(unembedCrossEntropy(h, frozen, t), want, 1e-5);
      const gFrozen = tf.grad((hh: tf.Tensor) => unembedCrossEntropy(hh as tf.Tensor2D, frozen, t))(h, dy);
      close(gFrozen, rh, 1e-5);
    });
  });
});
