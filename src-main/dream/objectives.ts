// Objectives map a model run to one scalar per sequence. They compose arithmetically (Lucid style) and carry
// a human-readable description for the experiment store.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { hookName } from '../model/hooks.js';
import type { Reduce, Transform } from './settings/types.js';

export type { Reduce, Transform } from './settings/types.js';

export interface ObjectiveContext {
  cache: Map<string, tf.Tensor>;
  logits?: tf.Tensor3D;
  /** [B, T] 1 where a position counts (real tokens), 0 for padding; absent means all count. */
  mask?: tf.Tensor2D;
  /**
   * [B, T] the model's cross-entropy of each position's next token (position t predicts the token at t + 1, the
   * last position a placeholder): given when an objective names `nextTokens`.
   */
  nextTokenLoss?: tf.Tensor2D;
  /** [B, T', d] the input embeddings of the free positions (the parameterisation's), for objectives that read them. */
  embeds?: tf.Tensor3D;
}

export interface Objective {
  description: string;
  /** Hook points the objective reads. */
  hooks: string[];
  /** Deepest block index the objective needs (−1 for none); lets the runner stop early. */
  maxLayer: number;
  needsLogits: boolean;
  /** The tokens whose cross-entropy it reads ([B, T] free tokens): the runner provides `nextTokenLoss` for them. */
  nextTokens?: number[][];
  /** It reads the free positions' input embeddings (`embeds`). */
  needsEmbeds?: boolean;
  /** [B] values; a weighted sum of objectives (weightedObjective) decides which way each pushes. */
  value(ctx: ObjectiveContext): tf.Tensor1D;
}

/**
 * Objectives of any kind — a target's, a regulariser's (regularisers.ts) — weighted and summed:
 * `target − λ·fluency − μ·manifold` is `weightedObjective([{target, 1}, {fluency, −λ}, {manifold, −μ}])`.
 */
export function weightedObjective(terms: { objective: Objective; weight: number }[]): Objective {
  if (!terms.length) throw new ObjectiveError('a weighted objective needs at least one term');
  const reads = terms.map((t) => t.objective.nextTokens).filter((n): n is number[][] => !!n);
  if (reads.length > 1) throw new ObjectiveError('at most one term may read the cross-entropy of next tokens');
  if (terms.length === 1 && terms[0]!.weight === 1) return terms[0]!.objective;
  return {
    description: terms.map((t, i) => `${i === 0 ? (t.weight < 0 ? '−' : '') : t.weight < 0 ? ' − ' : ' + '}${Math.abs(t.weight)}·(${t.objective.description})`).join(''),
    hooks: [...new Set(terms.flatMap((t) => t.objective.hooks))],
    maxLayer: Math.max(...terms.map((t) => t.objective.maxLayer)),
    needsLogits: terms.some((t) => t.objective.needsLogits),
    ...(reads.length ? { nextTokens: reads[0] } : {}),
    ...(terms.some((t) => t.objective.needsEmbeds) ? { needsEmbeds: true } : {}),
    value: (ctx) => tf.addN(terms.map((t) => tf.mul(t.objective.value(ctx), t.weight))) as tf.Tensor1D,
  };
}

export class ObjectiveError extends Error {
  override name = 'ObjectiveError';
}

/** The wasm slice kernel does no bounds checks: an out-of-range index would read garbage, so check here. */
function assertNeuronIndex(neuron: number, width: number, layer: number): void {
  if (!Number.isInteger(neuron) || neuron < 0 || neuron >= width) {
    throw new ObjectiveError(`neuron ${neuron} is out of range: layer ${layer} has neurons 0-${width - 1} (--neuron)`);
  }
}

export function checkNeuron(model: GPT2, layer: number, neuron: number): void {
  const { nLayer, dMlp } = model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= nLayer) {
    throw new ObjectiveError(`layer ${layer} is out of range: this model has layers 0-${nLayer - 1} (--layer)`);
  }
  if (!Number.isInteger(neuron) || neuron < 0 || neuron >= dMlp) {
    throw new ObjectiveError(`neuron ${neuron} is out of range: layer ${layer} has neurons 0-${dMlp - 1} (--neuron)`);
  }
}

/** Reduce a per-position activation [B, T] over positions, honouring the mask. */
export function reducePositions(act: tf.Tensor2D, reduce: Reduce, mask?: tf.Tensor2D): tf.Tensor1D {
  const T = act.shape[1];
  if (reduce === 'last') {
    if (!mask) return tf.reshape(tf.slice(act, [0, T - 1], [-1, 1]), [-1]) as tf.Tensor1D;
    // last real position per row: one-hot of (count − 1)
    const lastIdx = tf.cast(tf.sub(tf.sum(mask, 1), 1), 'int32') as tf.Tensor1D;
    // oneHot as int32 then cast: the wasm kernel mis-writes float32 one-hots.
    return tf.sum(tf.mul(act, tf.cast(tf.oneHot(lastIdx, T), 'float32')), 1) as tf.Tensor1D;
  }
  if (reduce === 'max') {
    const masked = mask ? tf.add(act, tf.mul(tf.sub(1, mask), -1e9)) : act;
    return tf.max(masked, 1) as tf.Tensor1D;
  }
  if (!mask) return tf.mean(act, 1) as tf.Tensor1D;
  return tf.div(tf.sum(tf.mul(act, mask), 1), tf.maximum(tf.sum(mask, 1), 1)) as tf.Tensor1D;
}

/** A post-GELU MLP neuron, reduced over positions (mean by default), optionally through a sigmoid. */
export function neuronObjective(layer: number, neuron: number, opts: { reduce?: Reduce; transform?: Transform } = {}): Objective {
  const reduce = opts.reduce ?? 'mean';
  const transform = opts.transform ?? 'none';
  const hook = hookName(layer, 'mlp.hook_post');
  return {
    description: `${transform === 'sigmoid' ? 'sigmoid ' : ''}${reduce} L${layer}N${neuron}`,
    hooks: [hook],
    maxLayer: layer,
    needsLogits: false,
    value: ({ cache, mask }) => {
      const post = cache.get(hook) as tf.Tensor3D; // [B, T, dMlp]
      const [B, T] = post.shape;
      assertNeuronIndex(neuron, post.shape[2], layer);
      let act = tf.reshape(tf.slice(post, [0, 0, neuron], [B, T, 1]), [B, T]) as tf.Tensor2D;
      if (transform === 'sigmoid') act = tf.sigmoid(act) as tf.Tensor2D;
      return reducePositions(act, reduce, mask);
    },
  };
}

/** Per-token activation of a target, for hard evaluation and per-token colouring: [B, T]. */
export interface Target {
  description: string;
  hooks: string[];
  maxLayer: number;
  /**
   * For a target that is one unit of a hook (an MLP neuron: index `index` of `hook`'s last axis): lets a caller
   * that measures many targets of one layer over the same texts run them once for all (seedPool.ts).
   */
  unit?: { hook: string; index: number };
  perToken(cache: Map<string, tf.Tensor>): tf.Tensor2D;
  /**
   * What an optimiser climbs, when it differs from what is judged: an SAE latent's pre-activation, since the real
   * (thresholded, top-k) activation has no gradient wherever the latent is off. Absent: perToken itself.
   */
  perTokenSoft?(cache: Map<string, tf.Tensor>): tf.Tensor2D;
}

/** Weighted sum of targets of any kind (neurons, directions, SAE latents): `latent − 0.5·neuron`. */
export function weightedSumTarget(terms: { target: Target; weight: number }[]): Target {
  if (!terms.length) throw new ObjectiveError('a weighted sum needs at least one term');
  const sum = (pick: (t: Target) => (cache: Map<string, tf.Tensor>) => tf.Tensor2D) => (cache: Map<string, tf.Tensor>) =>
    tf.addN(terms.map((p) => tf.mul(pick(p.target)(cache), p.weight))) as tf.Tensor2D;
  const soft = terms.some((p) => p.target.perTokenSoft);
  return {
    description: terms.map((p) => `${p.weight}·${p.target.description}`).join(' + '),
    hooks: [...new Set(terms.flatMap((p) => p.target.hooks))],
    maxLayer: Math.max(...terms.map((p) => p.target.maxLayer)),
    perToken: sum((t) => t.perToken),
    ...(soft ? { perTokenSoft: sum((t) => t.perTokenSoft ?? t.perToken) } : {}),
  };
}

/** What an SAE latent target needs of an SAE (src-main/sae/load.ts's Sae). */
export interface LatentEncoder {
  config: { dSae: number; hook: { layer: number; name: string } };
  preActivation(x: tf.Tensor): tf.Tensor;
  encode(x: tf.Tensor): tf.Tensor;
  dir: string;
}

/**
 * One latent of a sparse autoencoder reading a hook point: judged on its real activation (encode), climbed on its
 * pre-activation (perTokenSoft).
 */
export function saeLatentTarget(sae: LatentEncoder, latent: number, label = `SAE ${sae.dir}`): Target {
  const { dSae, hook } = sae.config;
  if (!Number.isInteger(latent) || latent < 0 || latent >= dSae) {
    throw new ObjectiveError(`latent ${latent} is out of range: the SAE at ${sae.dir} has latents 0-${dSae - 1}`);
  }
  const pick = (f: (x: tf.Tensor) => tf.Tensor) => (cache: Map<string, tf.Tensor>) => {
    const x = cache.get(hook.name) as tf.Tensor3D; // [B, T, d_in]
    const [B, T] = x.shape;
    return tf.reshape(tf.slice(f(x), [0, 0, latent], [B, T, 1]), [B, T]) as tf.Tensor2D;
  };
  return {
    description: `${label} latent ${latent}@${hook.name}`,
    hooks: [hook.name],
    maxLayer: hook.layer,
    perToken: pick((x) => sae.encode(x)),
    perTokenSoft: pick((x) => sae.preActivation(x)),
  };
}

export function neuronTarget(layer: number, neuron: number): Target {
  const hook = hookName(layer, 'mlp.hook_post');
  return {
    description: `L${layer}N${neuron}`,
    hooks: [hook],
    maxLayer: layer,
    unit: { hook, index: neuron },
    perToken: (cache) => {
      const post = cache.get(hook) as tf.Tensor3D;
      const [B, T] = post.shape;
      assertNeuronIndex(neuron, post.shape[2], layer);
      return tf.reshape(tf.slice(post, [0, 0, neuron], [B, T, 1]), [B, T]) as tf.Tensor2D;
    },
  };
}

/**
 * The norm of one attention head's output per token: ‖z_h W_O,h‖ where z_h is the head's mix of values
 * (blocks.L.attn.hook_z, [B, T, H, d_head]) and W_O,h its rows of the output projection. The heads' outputs sum,
 * with the projection's bias, to hook_attn_out.
 */
export function headTarget(model: GPT2, layer: number, head: number): Target {
  const { nLayer, nHead, dModel } = model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= nLayer) throw new ObjectiveError(`layer ${layer} is out of range: this model has layers 0-${nLayer - 1}`);
  if (!Number.isInteger(head) || head < 0 || head >= nHead) throw new ObjectiveError(`head ${head} is out of range: layer ${layer} has heads 0-${nHead - 1}`);
  const hook = hookName(layer, 'attn.hook_z');
  const dh = dModel / nHead;
  const wO = model.weights.blocks[layer].attnOut.W;
  return {
    description: `L${layer}H${head}`,
    hooks: [hook],
    maxLayer: layer,
    perToken: (cache) => {
      const z = cache.get(hook) as tf.Tensor4D; // [B, T, H, dh]
      const [B, T] = z.shape;
      const zh = tf.reshape(tf.slice(z, [0, 0, head, 0], [B, T, 1, dh]), [B * T, dh]) as tf.Tensor2D;
      const out = tf.matMul(zh, tf.slice(wO, [head * dh, 0], [dh, dModel]));
      return tf.reshape(tf.sqrt(tf.add(tf.sum(tf.square(out), 1), 1e-12)), [B, T]) as tf.Tensor2D;
    },
  };
}

/** A direction in the residual stream at `hook` (e.g. blocks.2.hook_resid_post): the projection per token. */
export function directionTarget(hook: string, direction: Float32Array, layer: number, label = 'direction'): Target {
  return {
    description: `${label}@${hook}`,
    hooks: [hook],
    maxLayer: layer,
    perToken: (cache) => {
      const x = cache.get(hook) as tf.Tensor3D; // [B, T, d]
      const [B, T, d] = x.shape;
      if (d !== direction.length) throw new ObjectiveError(`direction has ${direction.length} components but ${hook} is ${d} wide`);
      return tf.reshape(tf.matMul(tf.reshape(x, [B * T, d]) as tf.Tensor2D, tf.tensor2d(direction, [d, 1])), [B, T]) as tf.Tensor2D;
    },
  };
}

/** A weighted sum of neurons (possibly across layers): weightedSumTarget over neuron targets. */
export function neuronSumTarget(terms: { layer: number; neuron: number; weight: number }[]): Target {
  if (!terms.length) throw new ObjectiveError('a neuron sum needs at least one term');
  return weightedSumTarget(terms.map((t) => ({ weight: t.weight, target: neuronTarget(t.layer, t.neuron) })));
}

/** The objective that maximises a target's per-token activation, reduced over positions. */
export function targetObjective(target: Target, opts: { reduce?: Reduce; transform?: Transform } = {}): Objective {
  const reduce = opts.reduce ?? 'mean';
  const transform = opts.transform ?? 'none';
  return {
    description: `${transform === 'sigmoid' ? 'sigmoid ' : ''}${reduce} ${target.description}`,
    hooks: target.hooks,
    maxLayer: target.maxLayer,
    needsLogits: false,
    value: ({ cache, mask }) => {
      let act = (target.perTokenSoft ?? target.perToken)(cache);
      if (transform === 'sigmoid') act = tf.sigmoid(act) as tf.Tensor2D;
      return reducePositions(act, reduce, mask);
    },
  };
}
