// Layers for the MNIST networks, built from kernels the wasm backend has and computes correctly. Measured with
// tfjs 4.22: wasm has no Conv2DBackpropFilter, its Conv2DBackpropInput is ~8× slower than Conv2D, its MaxPoolGrad
// and MaxPoolWithArgmax return wrong values, and the cpu backend's ResizeNearestNeighborGrad is wrong for 14 → 28
// (test/mnist-ops.test.ts checks ours against references and pins those bugs). So convolution, max pooling and upsampling carry their own gradients, built
// from forward kernels: dx of a convolution is a convolution with the flipped kernel, dW a convolution of the
// input with dy; max pooling routes dy through an equality mask; upsampling's gradient is 4 × average pooling.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers gradients (maxPool, avgPool, resize, sigmoid, …)
import { linearTrainable } from '../model/ops.js';

interface GradResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const customGrad = (f: (...args: any[]) => GradResult) => tf.customGrad(f as never) as (...inputs: tf.Tensor[]) => tf.Tensor;

/**
 * Stride-1 'same' convolution with an odd square kernel, plus bias. x [B, H, W, C], w [k, k, C, F], b [F] →
 * [B, H, W, F]. Gradients for x, w and b, each a forward tf.conv2d (fast on wasm) and a few transposes.
 * `inputGrad: false` returns zeros for dx (training's first layer: the images need no gradient).
 */
export function conv2dSame(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, inputGrad = true): tf.Tensor4D {
  const k = w.shape[0];
  if (k % 2 !== 1 || w.shape[1] !== k) throw new Error(`conv2dSame: kernel must be square and odd, got [${w.shape}]`);
  const p = (k - 1) / 2;
  const f = customGrad((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi, wi]);
    return {
      value: tf.fused.conv2d({ x: xi as tf.Tensor4D, filter: wi as tf.Tensor4D, strides: 1, pad: 'same', bias: bi }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const g = dy as tf.Tensor4D; // [B, H, W, F]
        // dx: correlate dy with the kernel rotated by 180° and its channels swapped: [k, k, F, C].
        const wFlip = tf.transpose(tf.reverse(ws, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
        const dx = inputGrad ? tf.conv2d(g, wFlip, 1, 'same') : tf.zerosLike(xs);
        // dW[i, j, c, f] = Σ_{b,h,w} xpad[b, h+i, w+j, c] · dy[b, h, w, f]: the batch becomes the channel axis.
        const xt = tf.transpose(tf.pad(xs, [[0, 0], [p, p], [p, p], [0, 0]]), [3, 1, 2, 0]) as tf.Tensor4D; // [C, H+2p, W+2p, B]
        const gt = tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D; // [H, W, B, F]
        const dw = tf.transpose(tf.conv2d(xt, gt, 1, 'valid'), [1, 2, 0, 3]); // [C, k, k, F] → [k, k, C, F]
        return [dx, dw, sumRows(tf.reshape(g, [-1, g.shape[3]]) as tf.Tensor2D)];
      },
    };
  });
  return f(x, w, b) as tf.Tensor4D;
}

/** Column sums of [N, C] as one matMul with a row of ones (much faster on wasm than a Sum over axis 0). */
function sumRows(m: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, m.shape[0]]), m), [-1]) as tf.Tensor1D;
}

/** x [N, in] · W [in, out] + b; gradients as plain matMuls (transposed matMuls are slow on wasm). */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return linearTrainable(x, w, b);
}

/** Nearest-neighbour ×2 upsampling without a gradient of its own (wasm's forward kernel is right). */
function up2(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w]);
}

/**
 * 2×2 max pooling, stride 2 (even sides). The gradient goes to every input equal to its window's maximum; ties
 * only happen between post-ReLU zeros, whose ReLU gradient is zero anyway.
 */
export function maxPool2(x: tf.Tensor4D): tf.Tensor4D {
  const f = customGrad((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = tf.maxPool(xi as tf.Tensor4D, 2, 2, 'valid');
    save([xi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor4D, tf.Tensor4D];
        return tf.mul(tf.cast(tf.equal(xs, up2(ys)), 'float32'), up2(dy as tf.Tensor4D));
      },
    };
  });
  return f(x) as tf.Tensor4D;
}

/** 2×2 average pooling, stride 2. */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(x, 2, 2, 'valid');
}

/** Nearest-neighbour ×2 upsampling (each pixel becomes a 2×2 block); its gradient sums each block. */
export function upsample2(x: tf.Tensor4D): tf.Tensor4D {
  const f = customGrad((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return { value: up2(xi as tf.Tensor4D), gradFunc: (dy: tf.Tensor) => tf.mul(tf.avgPool(dy as tf.Tensor4D, 2, 2, 'valid'), 4) };
  });
  return f(x) as tf.Tensor4D;
}

/** Mean softmax cross-entropy of logits [N, K] against integer labels [N]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const K = logits.shape[1];
  // int32 one-hot then cast: the wasm kernel mis-writes float32 one-hots.
  const onehot = tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, K), 'float32');
  return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}
