// The MNIST layers' hand-written gradients on wasm against tfjs's own gradients on the cpu backend (the
// reference), and the kernels they replace, which are wrong: if a tfjs upgrade fixes them, this says so.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { conv2dSame, dense, maxPool2, upsample2 } from '../src-main/mnist/ops.js';

type Case = (x: tf.Tensor4D, dy: tf.Tensor4D) => tf.Tensor[];

/** Every gradient of Σ(f(...)·dy), flattened and concatenated. */
function grads(f: (...a: tf.Tensor[]) => tf.Tensor, args: tf.Tensor[], dy: tf.Tensor): Float32Array {
  return tf.tidy(() => {
    const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), dy)))(args);
    return tf.concat([tf.reshape(f(...args), [-1]), ...gs.map((g) => tf.reshape(g, [-1]))]);
  }).dataSync() as Float32Array;
}

const w3 = () => tf.randomNormal([3, 3, 4, 6], 0, 0.3, 'float32', 7) as tf.Tensor4D;
const w5 = () => tf.randomNormal([5, 5, 4, 6], 0, 0.3, 'float32', 8) as tf.Tensor4D;
const bias = () => tf.randomNormal([6], 0, 1, 'float32', 9) as tf.Tensor1D;
const dyHalf = (dy: tf.Tensor4D) => tf.slice(dy, [0, 0, 0, 0], [-1, 14, 14, 4]);
const dy4 = (dy: tf.Tensor4D) => tf.slice(dy, [0, 0, 0, 0], [-1, -1, -1, 4]);
/** ×2 nearest upsampling as a broadcast: a second formulation whose gradient (a broadcast's) is a plain sum. */
const tileUpsample = (a: tf.Tensor4D) => {
  const [B, h, w, C] = a.shape;
  return tf.reshape(tf.mul(tf.reshape(a, [B, h, 1, w, 1, C]), tf.ones([1, 1, 2, 1, 2, 1])), [B, 2 * h, 2 * w, C]);
};

/** name → [ours, tfjs's reference] (value and gradients). */
const CASES: Record<string, [Case, Case]> = {
  'conv2dSame 3×3': [
    (x, dy) => [tf.tensor(grads((a, w, b) => conv2dSame(a as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D), [x, w3(), bias()], dy))],
    (x, dy) => [tf.tensor(grads((a, w, b) => tf.add(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), b), [x, w3(), bias()], dy))],
  ],
  'conv2dSame 5×5': [
    (x, dy) => [tf.tensor(grads((a, w, b) => conv2dSame(a as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D), [x, w5(), bias()], dy))],
    (x, dy) => [tf.tensor(grads((a, w, b) => tf.add(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), b), [x, w5(), bias()], dy))],
  ],
  maxPool2: [
    (x, dy) => [tf.tensor(grads((a) => maxPool2(a as tf.Tensor4D), [x], dyHalf(dy)))],
    (x, dy) => [tf.tensor(grads((a) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), [x], dyHalf(dy)))],
  ],
  upsample2: [
    (x, dy) => [tf.tensor(grads((a) => upsample2(a as tf.Tensor4D), [dyHalf(x)], dy4(dy)))],
    (x, dy) => [tf.tensor(grads((a) => tileUpsample(a as tf.Tensor4D), [dyHalf(x)], dy4(dy)))],
  ],
  dense: [
    (x, dy) => [tf.tensor(grads((a, w, b) => dense(a as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), [tf.reshape(x, [2, -1]), tf.randomNormal([3136, 5], 0, 0.1, 'float32', 3), bias().slice(0, 5)], tf.reshape(dy, [-1]).slice(0, 10).reshape([2, 5])))],
    (x, dy) => [tf.tensor(grads((a, w, b) => tf.add(tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D), b), [tf.reshape(x, [2, -1]), tf.randomNormal([3136, 5], 0, 0.1, 'float32', 3), bias().slice(0, 5)], tf.reshape(dy, [-1]).slice(0, 10).reshape([2, 5])))],
  ],
};

function inputs(): [tf.Tensor4D, tf.Tensor4D] {
  return [tf.randomNormal([2, 28, 28, 4], 0, 1, 'float32', 1) as tf.Tensor4D, tf.randomNormal([2, 28, 28, 6], 0, 1, 'float32', 2) as tf.Tensor4D];
}

async function on(backend: 'cpu' | 'wasm', f: Case): Promise<Float32Array> {
  await initBackend(backend);
  return tf.tidy(() => f(...inputs())[0]).dataSync() as Float32Array;
}

function relDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

describe('MNIST layers on wasm match tfjs on cpu (value and every gradient)', () => {
  for (const [name, [ours, reference]] of Object.entries(CASES)) {
    it(name, async () => {
      const ref = await on('cpu', reference);
      const mine = await on('wasm', ours);
      expect(relDiff(mine, ref)).toBeLessThan(1e-5);
    });
  }
});

describe('the kernels our layers avoid are still wrong (tfjs 4.22)', () => {
  // If one of these starts failing, the kernel was fixed upstream and the workaround in ops.ts could go.
  it('MaxPoolGrad', async () => {
    const [, ref] = CASES.maxPool2;
    expect(relDiff(await on('wasm', ref), await on('cpu', ref))).toBeGreaterThan(1e-3);
  });
  it('ResizeNearestNeighborGrad on cpu (14 → 28)', async () => {
    const nearest: Case = (x, dy) => [tf.tensor(grads((a) => tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [28, 28]), [dyHalf(x)], dy4(dy)))];
    expect(relDiff(await on('cpu', nearest), await on('cpu', CASES.upsample2[1]))).toBeGreaterThan(1e-3);
  });
});
