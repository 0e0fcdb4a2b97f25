// Training and evaluation of the MNIST networks: Adam with a cosine-decayed learning rate, batches drawn by a
// seeded generator, optional 1-2 px shift augmentation. Each step runs in its own tf.tidy.
import * as tf from '@tensorflow/tfjs-core';
import { rng, shuffle } from '../corpus/rng.js';
import { PIXELS, fillBatch, type Digits } from './data.js';
import { classify, decodeLogits, encode, imagesTensor, LATENT, PARAM_SHAPES, reconstructionError, type Net } from './nets.js';
import { crossEntropy } from './ops.js';

export interface TrainOptions {
  epochs: number;
  batch: number;
  /** Peak learning rate; decays along a cosine to 5 % of it by the last step. */
  lr: number;
  /** Seeds batch order and augmentation (the weights' seed is the network's own). */
  seed: number;
  /** Random shift of each training digit by up to this many pixels on both axes (0: none). */
  shift: number;
}

export interface EpochReport {
  net: Net['name'];
  epoch: number;
  epochs: number;
  /** Mean training loss over the epoch (cross-entropy, or the autoencoder's binary cross-entropy per pixel). */
  loss: number;
  /** Held-out accuracy for classifiers, held-out mean squared reconstruction error for the autoencoder. */
  heldOut: number;
  elapsedMs: number;
}

function trainable(net: Net): tf.Variable[] {
  return Object.keys(PARAM_SHAPES[net.name]).map((n) => net.params[n] as tf.Variable);
}

function setLearningRate(opt: tf.Optimizer, lr: number): void {
  (opt as unknown as { learningRate: number }).learningRate = lr;
}

/**
 * The shared loop: `loss(x, labels)` for one batch. Yields a report after every epoch, with `heldOut` measured
 * by `evaluate`. The optimizer and every batch tensor are disposed; the network's variables are trained in place.
 */
async function* train(
  net: Net,
  data: Digits,
  opts: TrainOptions,
  loss: (x: tf.Tensor4D, labels: tf.Tensor1D) => tf.Scalar,
  evaluate: () => number,
  signal?: AbortSignal,
): AsyncGenerator<EpochReport> {
  const t0 = Date.now();
  const rand = rng(opts.seed);
  const vars = trainable(net);
  const opt: tf.Optimizer = tf.train.adam(opts.lr);
  const perEpoch = Math.floor(data.count / opts.batch);
  const total = perEpoch * opts.epochs;
  const xs = new Float32Array(opts.batch * PIXELS);
  const ys = new Int32Array(opts.batch);
  const all = Array.from({ length: data.count }, (_, i) => i);
  let step = 0;
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const order = shuffle(all, rand);
      let sum = 0;
      for (let b = 0; b < perEpoch; b++) {
        if (signal?.aborted) return;
        setLearningRate(opt, opts.lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * step) / total))));
        fillBatch(data, order, b * opts.batch, opts.batch, opts.shift, rand, xs, ys);
        sum += tf.tidy(() => {
          const x = imagesTensor(xs, opts.batch);
          const y = tf.tensor1d(ys, 'int32');
          const { value, grads } = tf.variableGrads(() => loss(x, y), vars);
          opt.applyGradients(grads);
          return value.dataSync()[0];
        });
        step++;
        if (b % 8 === 7) await new Promise((r) => setImmediate(r));
      }
      yield { net: net.name, epoch, epochs: opts.epochs, loss: sum / perEpoch, heldOut: evaluate(), elapsedMs: Date.now() - t0 };
    }
  } finally {
    opt.dispose();
  }
}

export function trainClassifier(net: Net, train_: Digits, heldOut: Digits, opts: TrainOptions, signal?: AbortSignal): AsyncGenerator<EpochReport> {
  return train(net, train_, opts, (x, y) => crossEntropy(classify(net, x, false), y), () => accuracy(net, heldOut), signal);
}

/** Binary cross-entropy per pixel from logits: softplus(l) − x·l. */
function bce(logits: tf.Tensor4D, x: tf.Tensor4D): tf.Scalar {
  return tf.mean(tf.sub(tf.softplus(logits), tf.mul(x, logits))) as tf.Scalar;
}

export function trainAutoencoder(net: Net, train_: Digits, heldOut: Digits, opts: TrainOptions, signal?: AbortSignal): AsyncGenerator<EpochReport> {
  return train(net, train_, opts, (x) => bce(decodeLogits(net, encode(net, x, false)), x), () => meanReconstructionError(net, heldOut), signal);
}

/** Predicted class of every digit. */
export function predictions(net: Net, d: Digits): Int32Array {
  const out = new Int32Array(d.count);
  let k = 0;
  for (let i = 0; i < d.count; i += 500) {
    const n = Math.min(500, d.count - i);
    const t = tf.tidy(() => tf.argMax(classify(net, imagesTensor(d.images.subarray(i * PIXELS, (i + n) * PIXELS), n)), 1));
    out.set(t.dataSync() as Int32Array, k);
    t.dispose();
    k += n;
  }
  return out;
}

/** Fraction of digits classified correctly. */
export function accuracy(net: Net, d: Digits): number {
  const p = predictions(net, d);
  let right = 0;
  for (let i = 0; i < d.count; i++) if (p[i] === d.labels[i]) right++;
  return right / d.count;
}

/** Mean over digits of the per-image mean squared reconstruction error. */
export function meanReconstructionError(ae: Net, d: Digits): number {
  let sum = 0;
  for (let i = 0; i < d.count; i += 500) {
    const n = Math.min(500, d.count - i);
    const t = tf.tidy(() => tf.sum(reconstructionError(ae, imagesTensor(d.images.subarray(i * PIXELS, (i + n) * PIXELS), n))));
    sum += t.dataSync()[0];
    t.dispose();
  }
  return sum / d.count;
}

/** Sets the autoencoder's `latent.mean` and `latent.std` from the codes of `d` (the training digits). */
export function fitLatentStats(ae: Net, d: Digits): void {
  const codes = new Float32Array(d.count * LATENT);
  let k = 0;
  for (let i = 0; i < d.count; i += 500) {
    const n = Math.min(500, d.count - i);
    const t = tf.tidy(() => encode(ae, imagesTensor(d.images.subarray(i * PIXELS, (i + n) * PIXELS), n)));
    codes.set(t.dataSync() as Float32Array, k);
    t.dispose();
    k += n * LATENT;
  }
  const mean = new Float32Array(LATENT);
  const std = new Float32Array(LATENT);
  for (let i = 0; i < d.count; i++) for (let j = 0; j < LATENT; j++) mean[j] += codes[i * LATENT + j] / d.count;
  for (let i = 0; i < d.count; i++) for (let j = 0; j < LATENT; j++) std[j] += (codes[i * LATENT + j] - mean[j]) ** 2 / d.count;
  for (let j = 0; j < LATENT; j++) std[j] = Math.sqrt(std[j]) + 1e-6;
  ae.params['latent.mean'].dispose();
  ae.params['latent.std'].dispose();
  ae.params['latent.mean'] = tf.tensor1d(mean);
  ae.params['latent.std'] = tf.tensor1d(std);
}
