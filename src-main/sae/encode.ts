// Encoding and decoding as SAELens 6 defines them for its inference SAEs (StandardSAE, JumpReLUSAE, TopKSAE):
//   x' = normalise(centre(x)) − b_dec·[apply_b_dec_to_input]     (SAELens normalises first, then subtracts b_dec)
//   pre = x'·W_enc + b_enc                                        (topk with rescale_acts_by_decoder_norm: · ‖W_dec row‖)
//   standard: relu(pre)   jumprelu: relu(pre)·[pre > threshold]   topk: relu of the k largest pre, zero elsewhere
//   decode: undo_normalise(f·W_dec + b_dec)                        (+ the mean centring removed, when x is given)
// Every function takes x of shape [..., d_in] and works under tf.tidy; preActivation is differentiable in x.
import * as tf from '@tensorflow/tfjs-core';
import { ModelInputError } from '../model/gpt2.js';
import type { SaeConfig } from './config.js';

export interface SaeWeights {
  W_enc: tf.Tensor2D; // [d_in, d_sae]
  b_enc: tf.Tensor1D; // [d_sae]
  W_dec: tf.Tensor2D; // [d_sae, d_in]
  b_dec: tf.Tensor1D; // [d_in]
  /** jumprelu only. */
  threshold?: tf.Tensor1D; // [d_sae]
  /** ‖W_dec row‖ per latent, for topk SAEs with rescale_acts_by_decoder_norm. */
  decoderNorms?: tf.Tensor1D; // [d_sae]
}

/** SAELens's layer_norm epsilon, added to the standard deviation. */
const LAYER_NORM_EPS = 1e-5;

/**
 * The pre-activations [..., d_sae] before any threshold, ReLU or top-k: what a dream should climb, since it has a
 * gradient everywhere (the thresholded activation is flat wherever the latent is off).
 */
export function preActivation(cfg: SaeConfig, w: SaeWeights, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const lead = leadingShape(x, cfg.dIn, 'activations');
    const pre = preActivation2D(cfg, w, tf.reshape(x, [-1, cfg.dIn]) as tf.Tensor2D);
    return tf.reshape(pre, [...lead, cfg.dSae]);
  });
}

/** The latent activations [..., d_sae] SAELens's `encode` returns. */
export function encode(cfg: SaeConfig, w: SaeWeights, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const lead = leadingShape(x, cfg.dIn, 'activations');
    const pre = preActivation2D(cfg, w, tf.reshape(x, [-1, cfg.dIn]) as tf.Tensor2D);
    return tf.reshape(activate(cfg, w, pre), [...lead, cfg.dSae]);
  });
}

/**
 * The reconstruction [..., d_in] of latents f [..., d_sae]. `x`, the activations f was encoded from, puts it back
 * in the model's stream: it undoes a per-token normalisation (constant_norm_rescale, layer_norm, which need it) and
 * adds back the per-token mean a centred SAE removed. Without x the result is in the SAE's own (centred) space.
 */
export function decode(cfg: SaeConfig, w: SaeWeights, f: tf.Tensor, x?: tf.Tensor): tf.Tensor {
  const kind = cfg.normalization.kind;
  if (!x && (kind === 'constant_norm_rescale' || kind === 'layer_norm')) {
    throw new ModelInputError(`decode needs the encoded activations x: normalize_activations "${kind}" is undone with each token's own statistics`);
  }
  return tf.tidy(() => {
    const lead = leadingShape(f, cfg.dSae, 'latents');
    let f2 = tf.reshape(f, [-1, cfg.dSae]) as tf.Tensor2D;
    if (w.decoderNorms) f2 = tf.div(f2, w.decoderNorms);
    let out: tf.Tensor2D = tf.add(tf.matMul(f2, w.W_dec), w.b_dec);
    if (x) {
      const xs = leadingShape(x, cfg.dIn, 'activations');
      if (xs.join(',') !== lead.join(',')) {
        throw new ModelInputError(`decode: latents [${f.shape}] and activations [${x.shape}] describe different tokens`);
      }
      const x2 = tf.reshape(x, [-1, cfg.dIn]) as tf.Tensor2D;
      const mean = tf.mean(x2, -1, true);
      const stats = normalise(cfg, cfg.centreInput ? tf.sub<tf.Tensor2D>(x2, mean) : x2);
      out = stats.undo(out);
      if (cfg.centreInput) out = tf.add(out, mean);
    } else if (cfg.normalization.kind === 'expected_average_only_in') {
      out = tf.div(out, cfg.normalization.scalingFactor);
    }
    return tf.reshape(out, [...lead, cfg.dIn]);
  });
}

function preActivation2D(cfg: SaeConfig, w: SaeWeights, x: tf.Tensor2D): tf.Tensor2D {
  // A centred SAE read a stream whose every token vector had mean zero (see SaeConfig.centreInput).
  const centred = cfg.centreInput ? tf.sub<tf.Tensor2D>(x, tf.mean(x, -1, true)) : x;
  let xIn = normalise(cfg, centred).value;
  if (cfg.applyBDecToInput) xIn = tf.sub(xIn, w.b_dec);
  let pre: tf.Tensor2D = tf.add(tf.matMul(xIn, w.W_enc), w.b_enc);
  if (w.decoderNorms) pre = tf.mul(pre, w.decoderNorms);
  return pre;
}

function activate(cfg: SaeConfig, w: SaeWeights, pre: tf.Tensor2D): tf.Tensor2D {
  switch (cfg.architecture) {
    case 'standard':
      return tf.relu(pre);
    case 'jumprelu':
      return tf.mul(tf.relu(pre), tf.cast(tf.greater(pre, w.threshold!), 'float32'));
    case 'topk':
      return topKRelu(pre, cfg.k!);
  }
}

/** SAELens's TopK: the k largest pre-activations of each row (before ReLU), then ReLU on those, zero elsewhere. */
function topKRelu(pre: tf.Tensor2D, k: number): tf.Tensor2D {
  const [rows, dSae] = pre.shape;
  const { values, indices } = tf.topk(pre, k);
  const rowIds = tf.tile(tf.reshape(tf.range(0, rows, 1, 'int32'), [rows, 1]), [1, k]);
  const at = tf.stack([tf.reshape(rowIds, [-1]), tf.reshape(indices, [-1])], 1);
  return tf.scatterND(at, tf.reshape(tf.relu(values), [-1]), [rows, dSae]) as tf.Tensor2D;
}

/** A normalisation applied to rows of x, with its inverse for the decoder's output. */
function normalise(cfg: SaeConfig, x: tf.Tensor2D): { value: tf.Tensor2D; undo: (y: tf.Tensor2D) => tf.Tensor2D } {
  const n = cfg.normalization;
  switch (n.kind) {
    case 'none':
      return { value: x, undo: (y) => y };
    case 'expected_average_only_in':
      return { value: tf.mul(x, n.scalingFactor), undo: (y) => tf.div(y, n.scalingFactor) };
    case 'constant_norm_rescale': {
      const coeff = tf.div(Math.sqrt(cfg.dIn), tf.sqrt(tf.sum(tf.square(x), -1, true)));
      return { value: tf.mul(x, coeff), undo: (y) => tf.div(y, coeff) };
    }
    case 'layer_norm': {
      // torch's x.std() is the unbiased (n − 1) estimate, and SAELens adds eps to it rather than to the variance.
      const mu = tf.mean(x, -1, true);
      const c = tf.sub(x, mu);
      const std = tf.sqrt(tf.div(tf.sum(tf.square(c), -1, true), cfg.dIn - 1));
      return { value: tf.div(c, tf.add(std, LAYER_NORM_EPS)), undo: (y) => tf.add(tf.mul(y, std), mu) };
    }
  }
}

/** The leading dimensions of t [..., width], checked against the SAE's d_in (activations) or d_sae (latents). */
function leadingShape(t: tf.Tensor, width: number, what: 'activations' | 'latents'): number[] {
  if (t.rank < 1 || t.shape[t.rank - 1] !== width) {
    const field = what === 'activations' ? 'd_in' : 'd_sae';
    throw new ModelInputError(`SAE ${what} must have shape [..., ${width}] (the SAE's ${field}), got [${t.shape}]`);
  }
  return t.shape.slice(0, -1);
}
