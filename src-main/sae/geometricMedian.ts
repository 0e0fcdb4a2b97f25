// The geometric median of a sample of activations (the point minimising the summed Euclidean distance), SAELens's
// b_dec initialisation: unlike the mean it is not dragged by the few tokens whose residual norm is far larger.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Weiszfeld's iteration from the mean: y ← Σ wᵢxᵢ / Σ wᵢ with wᵢ = 1 / max(‖xᵢ − y‖, eps), a fixed number of times
 * (deterministic, and a few dozen iterations settle to far below the activations' spread). x is [n, d].
 */
export function geometricMedian(x: tf.Tensor2D, iterations = 50, eps = 1e-6): tf.Tensor1D {
  return tf.tidy(() => {
    let y = tf.mean(x, 0) as tf.Tensor1D;
    for (let i = 0; i < iterations; i++) {
      const next = tf.tidy(() => {
        const dist = tf.maximum(tf.norm(tf.sub(x, y), 'euclidean', 1, true), eps);
        const w = tf.div(1, dist); // [n, 1]
        return tf.div(tf.sum(tf.mul(x, w), 0), tf.sum(w)) as tf.Tensor1D;
      });
      y.dispose();
      y = next;
    }
    return y;
  });
}
