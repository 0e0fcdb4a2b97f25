// GPT-2 forward pass with TransformerLens hook points. Differentiable end to end: from token ids, from input
// embeddings (the dreaming entry point), or from a residual stream written at some layer.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2Config } from './config.js';
import { checkHookNames, hookName } from './hooks.js';
import { chunkedGather, embeddingLookup, geluNew, layerNorm, linear, unembed, unembedCrossEntropy, type Linear } from './ops.js';
import { tiedEmbeddingChunks, weightTensors, type BlockWeights, type GPT2Weights } from './weights.js';

export interface RunOptions {
  /** Hook points to return, e.g. `blocks.1.mlp.hook_post`. */
  hooks?: Iterable<string>;
  /** Run blocks 0 … stopAtLayer−1 only (TransformerLens semantics); no logits are computed. */
  stopAtLayer?: number;
  /** Skip ln_final and the unembedding even when all layers run. */
  skipLogits?: boolean;
}

export type ModelInput =
  | { ids: tf.Tensor2D } // int32 [B, T]
  | { embeds: tf.Tensor3D } // token embeddings [B, T, d], before position embeddings
  | { resid: tf.Tensor3D; layer: number }; // residual stream entering block `layer` (hook_resid_pre)

export interface RunResult {
  /** [B, T, V] unless stopped early or skipped. */
  logits?: tf.Tensor3D;
  /** The residual stream where the run stopped (or after the last block). */
  resid: tf.Tensor3D;
  cache: Map<string, tf.Tensor>;
}

export class ModelInputError extends Error {
  override name = 'ModelInputError';
}

export class GPT2 {
  private mask: tf.Tensor2D | null = null;
  private readonly derivedTensors = new Map<string, tf.TensorContainer>();
  constructor(readonly config: GPT2Config, readonly weights: GPT2Weights) {}

  /**
   * Tensors derived from the weights (unit-norm embeddings, augmented vocabulary rows), built on first use and kept
   * until the model is disposed, so switching models releases them too. Safe to call inside a tidy scope.
   */
  derived<T extends tf.TensorContainer>(key: string, build: () => T): T {
    let v = this.derivedTensors.get(key) as T | undefined;
    if (v === undefined) {
      v = tf.tidy(build as () => T);
      keepAll(v);
      this.derivedTensors.set(key, v);
    }
    return v;
  }

  /** Token embeddings [B, T, d] for ids [B, T]: the rows of wte the gradient is taken on. */
  embed(ids: tf.Tensor2D): tf.Tensor3D {
    this.checkIds(ids);
    const [B, T] = ids.shape;
    const flat = tf.reshape(ids, [-1]) as tf.Tensor1D;
    // Frozen tied weights: gather from the vocabulary chunks, never binding the whole matrix (GPU limits).
    const chunks = tiedEmbeddingChunks(this.weights);
    const rows = chunks ? chunkedGather(chunks, flat) : embeddingLookup(this.weights.wte, flat);
    return tf.reshape(rows, [B, T, this.config.dModel]) as tf.Tensor3D;
  }

  /** Run the model. Call inside tf.tidy (or dispose the result's tensors yourself). */
  run(input: ModelInput, opts: RunOptions = {}): RunResult {
    const c = this.config;
    const want = checkHookNames(opts.hooks ?? [], c.nLayer);
    const cache = new Map<string, tf.Tensor>();
    const hook = (name: string, t: tf.Tensor) => {
      if (want.has(name)) cache.set(name, t);
    };
    const stop = opts.stopAtLayer ?? c.nLayer;
    if (!Number.isInteger(stop) || stop < 0 || stop > c.nLayer) {
      throw new ModelInputError(`stopAtLayer ${stop} is out of range: use 0-${c.nLayer}`);
    }
    let x: tf.Tensor3D;
    let start = 0;
    if ('resid' in input) {
      start = input.layer;
      if (!Number.isInteger(start) || start < 0 || start > c.nLayer) {
        throw new ModelInputError(`residual input layer ${start} is out of range: use 0-${c.nLayer}`);
      }
      this.checkShape(input.resid);
      x = input.resid;
    } else {
      const emb = 'ids' in input ? this.embed(input.ids) : input.embeds;
      this.checkShape(emb);
      const T = emb.shape[1];
      const pos = tf.slice(this.weights.wpe, [0, 0], [T, c.dModel]);
      hook('hook_embed', emb);
      hook('hook_pos_embed', pos);
      x = tf.add(emb, pos) as tf.Tensor3D;
    }
    for (let l = start; l < stop; l++) x = this.block(l, x, this.weights.blocks[l], hook);
    const result: RunResult = { resid: x, cache };
    if (stop === c.nLayer && !opts.skipLogits) {
      const [B, T, d] = x.shape;
      const normed = layerNorm(x, this.weights.lnf.g, this.weights.lnf.b, c.layerNormEps) as tf.Tensor3D;
      hook('ln_final.hook_normalized', normed);
      const logits = unembed(tf.reshape(normed, [B * T, d]) as tf.Tensor2D, this.weights.unembed);
      result.logits = tf.reshape(logits, [B, T, c.vocabSize]) as tf.Tensor3D;
    }
    return result;
  }

  /**
   * Per-token cross-entropy [B, T] of the model's next-token prediction against `targets` (int32 [B, T]),
   * fused with the unembedding: the cheap way to train or evaluate, as the [B·T, V] logits are never built.
   */
  tokenLoss(input: ModelInput, targets: tf.Tensor2D): tf.Tensor2D {
    return this.runWithLoss(input, targets).loss;
  }

  /** tokenLoss together with the run's hooks (hard evaluation needs both, and never the logits). */
  runWithLoss(input: ModelInput, targets: tf.Tensor2D, hooks: Iterable<string> = []): { loss: tf.Tensor2D; cache: Map<string, tf.Tensor> } {
    const run = this.run(input, { skipLogits: true, hooks });
    const x = run.resid;
    const [B, T, d] = x.shape;
    if (targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ModelInputError(`targets have shape [${targets.shape}], the input [${B}, ${T}]: give one target per position`);
    }
    const normed = layerNorm(x, this.weights.lnf.g, this.weights.lnf.b, this.config.layerNormEps);
    const ce = unembedCrossEntropy(tf.reshape(normed, [B * T, d]) as tf.Tensor2D, this.weights.unembed, tf.reshape(targets, [-1]) as tf.Tensor1D);
    return { loss: tf.reshape(ce, [B, T]) as tf.Tensor2D, cache: run.cache };
  }

  private block(l: number, x: tf.Tensor3D, w: BlockWeights, hook: (n: string, t: tf.Tensor) => void): tf.Tensor3D {
    const c = this.config;
    const [B, T, d] = x.shape;
    const lin = (t: tf.Tensor, p: Linear, out: number) =>
      tf.reshape(linear(tf.reshape(t, [B * T, -1]) as tf.Tensor2D, p), [B, T, out]) as tf.Tensor3D;
    hook(hookName(l, 'hook_resid_pre'), x);
    const h1 = layerNorm(x, w.ln1.g, w.ln1.b, c.layerNormEps);
    hook(hookName(l, 'ln1.hook_normalized'), h1);
    const attnOut = lin(this.attention(l, lin(h1, w.attn, 3 * d), hook), w.attnOut, d);
    hook(hookName(l, 'hook_attn_out'), attnOut);
    const mid = tf.add(x, attnOut) as tf.Tensor3D;
    hook(hookName(l, 'hook_resid_mid'), mid);
    const h2 = layerNorm(mid, w.ln2.g, w.ln2.b, c.layerNormEps);
    hook(hookName(l, 'ln2.hook_normalized'), h2);
    const pre = lin(h2, w.fc, c.dMlp);
    hook(hookName(l, 'mlp.hook_pre'), pre);
    const post = geluNew(pre);
    hook(hookName(l, 'mlp.hook_post'), post);
    const mlpOut = lin(post, w.proj, d);
    hook(hookName(l, 'hook_mlp_out'), mlpOut);
    const out = tf.add(mid, mlpOut) as tf.Tensor3D;
    hook(hookName(l, 'hook_resid_post'), out);
    return out;
  }

  /** Causal multi-head attention. qkv [B, T, 3d] → [B, T, d]. */
  private attention(l: number, qkv: tf.Tensor3D, hook: (n: string, t: tf.Tensor) => void): tf.Tensor3D {
    const { nHead: H, dModel: d } = this.config;
    const [B, T] = qkv.shape;
    const dh = d / H;
    const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]), [B * H, T, dh]);
    const [q, k, v] = tf.split(qkv, 3, 2);
    // Kᵀ is formed explicitly: batched matMul with transposeB is the slow path on wasm.
    const kT = tf.transpose(heads(k), [0, 2, 1]); // [BH, dh, T]
    const scores = tf.add(tf.mul(tf.matMul(heads(q) as tf.Tensor3D, kT as tf.Tensor3D), 1 / Math.sqrt(dh)), this.causalMask(T));
    const pattern = tf.softmax(scores, -1); // [BH, T, T]
    hook(hookName(l, 'attn.hook_pattern'), tf.reshape(pattern, [B, H, T, T]));
    const z = tf.matMul(pattern as tf.Tensor3D, heads(v) as tf.Tensor3D); // [BH, T, dh]
    return tf.reshape(tf.transpose(tf.reshape(z, [B, H, T, dh]), [0, 2, 1, 3]), [B, T, d]) as tf.Tensor3D;
  }

  /** Additive mask [T, T]: 0 where a position may attend, a large negative number above the diagonal. One
   * [context, context] mask is built on first use and sliced, so memory stays flat whatever lengths run. */
  private causalMask(T: number): tf.Tensor2D {
    if (!this.mask) {
      const P = this.config.nPositions;
      const data = new Float32Array(P * P);
      for (let i = 0; i < P; i++) for (let j = i + 1; j < P; j++) data[i * P + j] = -1e9;
      this.mask = tf.keep(tf.tensor2d(data, [P, P]));
    }
    return tf.slice(this.mask, [0, 0], [T, T]);
  }

  private checkIds(ids: tf.Tensor2D): void {
    if (ids.rank !== 2) throw new ModelInputError(`token ids must be [batch, tokens], got rank ${ids.rank}`);
    if (ids.dtype !== 'int32') throw new ModelInputError(`token ids must be int32, got ${ids.dtype}`);
  }

  private checkShape(x: tf.Tensor3D): void {
    const { dModel, nPositions } = this.config;
    if (x.rank !== 3 || x.shape[2] !== dModel) {
      throw new ModelInputError(`input must be [batch, tokens, ${dModel}], got [${x.shape}]`);
    }
    if (x.shape[1] === 0) throw new ModelInputError('empty input: give at least one token');
    if (x.shape[1] > nPositions) {
      throw new ModelInputError(
        `${x.shape[1]} tokens exceed the model's context of ${nPositions}: shorten the text or split it into windows`,
      );
    }
  }

  dispose(): void {
    for (const t of weightTensors(this.weights)) t.dispose();
    this.mask?.dispose();
    this.mask = null;
    for (const v of this.derivedTensors.values()) tf.dispose(v);
    this.derivedTensors.clear();
  }
}

/** tf.keep every tensor of a container (an enclosing tidy scope would otherwise dispose them when it ends). */
function keepAll(v: tf.TensorContainer): void {
  if (v instanceof tf.Tensor) tf.keep(v);
  else if (Array.isArray(v)) v.forEach(keepAll);
  else if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) Object.values(v).forEach((x) => x !== undefined && keepAll(x as tf.TensorContainer));
}
