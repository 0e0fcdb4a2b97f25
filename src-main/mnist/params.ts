// Parameterisations (trainable variables → an image in [0, 1]) and image regularisers, Lucid style.
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../corpus/rng.js';
import type { Space } from './config.js';
import { PIXELS, SIDE } from './data.js';
import { decode, gaussians, LATENT, type Net } from './nets.js';

export interface Parameterisation {
  space: Space;
  variable: tf.Variable;
  /** The image the variable stands for, [1, 28, 28, 1] in [0, 1]. Call inside a tidy / gradient. */
  image(v: tf.Tensor): tf.Tensor4D;
  dispose(): void;
}

/** The latent box: z = mean + LATENT_BOX·std·tanh(v), so dreams stay within ±3σ of the training codes. */
export const LATENT_BOX = 3;

function variableFrom(data: Float32Array, shape: number[], name: string): tf.Variable {
  const t = tf.tensor(data, shape);
  const v = tf.variable(t, true, name);
  t.dispose();
  return v;
}

let counter = 0;

/**
 * Raw pixels: 784 unconstrained logits, image = sigmoid(logits). Starts as a dark image with faint noise
 * (logit −2 ± 0.5, about 0.12 intensity), as MNIST digits are mostly black background.
 */
export function rawPixels(seed: number): Parameterisation {
  const noise = gaussians(rng(seed), PIXELS).map((g) => -2 + 0.5 * g);
  const variable = variableFrom(noise, [1, SIDE, SIDE, 1], `mnist.dream.raw.${counter++}`);
  return { space: 'raw', variable, image: (v) => tf.sigmoid(v) as tf.Tensor4D, dispose: () => variable.dispose() };
}

/**
 * The autoencoder's latent: v ∈ ℝ¹⁶, z = mean + 3·std·tanh(v), image = decoder(z). Starts at a random code
 * near the training codes' centre (v ~ N(0, 0.3²) per dimension).
 */
export function latentCode(ae: Net, seed: number): Parameterisation {
  const start = gaussians(rng(seed), LATENT).map((g) => 0.3 * g);
  const variable = variableFrom(start, [1, LATENT], `mnist.dream.latent.${counter++}`);
  const mean = ae.params['latent.mean'];
  const std = ae.params['latent.std'];
  return {
    space: 'latent',
    variable,
    image: (v) => decode(ae, tf.add(mean, tf.mul(tf.mul(std, LATENT_BOX), tf.tanh(v))) as tf.Tensor2D),
    dispose: () => variable.dispose(),
  };
}

/** Mean squared intensity of images [B, 28, 28, 1] → [B]. */
export function l2Penalty(x: tf.Tensor4D): tf.Tensor1D {
  return tf.mean(tf.square(x), [1, 2, 3]) as tf.Tensor1D;
}

/** Total variation: mean absolute difference between horizontal and vertical neighbours → [B]. */
export function totalVariation(x: tf.Tensor4D): tf.Tensor1D {
  const dx = tf.sub(tf.slice(x, [0, 0, 1, 0], [-1, -1, SIDE - 1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, -1, SIDE - 1, -1]));
  const dy = tf.sub(tf.slice(x, [0, 1, 0, 0], [-1, SIDE - 1, -1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, SIDE - 1, -1, -1]));
  return tf.add(tf.mean(tf.abs(dx), [1, 2, 3]), tf.mean(tf.abs(dy), [1, 2, 3])) as tf.Tensor1D;
}

/** The image shifted by (dx, dy) whole pixels with zero (background) fill; same size. */
export function shiftImage(x: tf.Tensor4D, dx: number, dy: number): tf.Tensor4D {
  if (dx === 0 && dy === 0) return x;
  const j = Math.max(Math.abs(dx), Math.abs(dy));
  const padded = tf.pad(x, [[0, 0], [j, j], [j, j], [0, 0]]);
  return tf.slice(padded, [0, j - dy, j - dx, 0], [-1, SIDE, SIDE, -1]) as tf.Tensor4D;
}
