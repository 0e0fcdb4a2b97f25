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
  /**
   * Keys and values of earlier positions, one row per batch row (`PastKV.k[l]` [B, H, P, dh]): the input is then
   * positions P … P+T−1, attending to the past and to itself causally. How a search that edits position p of many
   * copies of one text runs only positions p … end of each (the positions before p are the same for all).
   */
  past?: PastKV;
  /** Return every block's keys and values (RunResult.kv), for a later run to continue from. */
  collectKV?: boolean;
}

/** Attention keys and values per layer, [B, H, P, dh] each, for P positions. */
export interface PastKV {
  k: tf.Tensor4D[];
  v: tf.Tensor4D[];
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
  /** With `collectKV`: this run's keys and values per layer (the past's not included). */
  kv?: PastKV;
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
    const past = opts.past;
    const offset = past ? past.k[0].shape[2] : 0;
    if (past && ('resid' in input || past.k.length !== c.nLayer || past.v.length !== c.nLayer)) {
      throw new ModelInputError(`a run with past keys and values starts from tokens or embeddings and needs all ${c.nLayer} layers' keys and values`);
    }
    if ('resid' in input) {
      start = input.layer;
      if (!Number.isInteger(start) || start < 0 || start > c.nLayer) {
        throw new ModelInputError(`residual input layer ${start} is out of range: use 0-${c.nLayer}`);
      }
      this.checkShape(input.resid);
      x = input.resid;
    } else {
      const emb = 'ids' in input ? this.embed(input.ids) : input.embeds;
      this.checkShape(emb, offset);
      const T = emb.shape[1];
      const pos = tf.slice(this.weights.wpe, [offset, 0], [T, c.dModel]);
      hook('hook_embed', emb);
      hook('hook_pos_embed', pos);
      x = tf.add(emb, pos) as tf.Tensor3D;
    }
    const kv: PastKV | undefined = opts.collectKV ? { k: [], v: [] } : undefined;
    for (let l = start; l < stop; l++) x = this.block(l, x, this.weights.blocks[l], hook, past, kv);
    const result: RunResult = { resid: x, cache, ...(kv ? { kv } : {}) };
    if (stop === c.nLayer && !opts.skipLogits) {
      const [B, T, d] = x.shape;
      const normed = this.finalNorm(x);
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
    const normed = this.finalNorm(x);
    const ce = unembedCrossEntropy(tf.reshape(normed, [B * T, d]) as tf.Tensor2D, this.weights.unembed, tf.reshape(targets, [-1]) as tf.Tensor1D);
    return { loss: tf.reshape(ce, [B, T]) as tf.Tensor2D, cache: run.cache };
  }

  /** ln_final of a residual stream: what the unembedding reads. */
  finalNorm(x: tf.Tensor3D): tf.Tensor3D {
    return layerNorm(x, this.weights.lnf.g, this.weights.lnf.b, this.config.layerNormEps) as tf.Tensor3D;
  }

  private block(l: number, x: tf.Tensor3D, w: BlockWeights, hook: (n: string, t: tf.Tensor) => void, past?: PastKV, kv?: PastKV): tf.Tensor3D {
    const c = this.config;
    const [B, T, d] = x.shape;
    const lin = (t: tf.Tensor, p: Linear, out: number) =>
      tf.reshape(linear(tf.reshape(t, [B * T, -1]) as tf.Tensor2D, p), [B, T, out]) as tf.Tensor3D;
    hook(hookName(l, 'hook_resid_pre'), x);
    const h1 = layerNorm(x, w.ln1.g, w.ln1.b, c.layerNormEps);
    hook(hookName(l, 'ln1.hook_normalized'), h1);
    const attnOut = lin(this.attention(l, lin(h1, w.attn, 3 * d), hook, past, kv), w.attnOut, d);
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
  private attention(l: number, qkv: tf.Tensor3D, hook: (n: string, t: tf.Tensor) => void, past?: PastKV, kv?: PastKV): tf.Tensor3D {
    const { nHead: H, dModel: d } = this.config;
    const [B, T] = qkv.shape;
    const dh = d / H;
    const split4 = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, T, dh]
    const [q, k, v] = tf.split(qkv, 3, 2);
    let k4 = split4(k);
    let v4 = split4(v);
    if (kv) (kv.k.push(k4), kv.v.push(v4));
    const P = past ? past.k[l].shape[2] : 0;
    if (past) {
      if (past.k[l].shape[0] !== B) throw new ModelInputError(`past keys and values have ${past.k[l].shape[0]} rows, the input ${B}: give one past row per input row`);
      k4 = tf.concat([past.k[l], k4], 2);
      v4 = tf.concat([past.v[l], v4], 2);
    }
    const flat = (t: tf.Tensor4D, n: number) => tf.reshape(t, [B * H, n, dh]) as tf.Tensor3D;
    // Kᵀ is formed explicitly: batched matMul with transposeB is the slow path on wasm.
    const kT = tf.transpose(flat(k4, P + T), [0, 2, 1]); // [BH, dh, P+T]
    // The mask rows of positions P … P+T−1 over columns 0 … P+T−1: the past is visible, the rest causal.
    const mask = tf.slice(this.causalMask(P + T), [P, 0], [T, P + T]);
    const scores = tf.add(tf.mul(tf.matMul(flat(split4(q), T), kT as tf.Tensor3D), 1 / Math.sqrt(dh)), mask);
    const pattern = tf.softmax(scores, -1); // [BH, T, P+T]
    hook(hookName(l, 'attn.hook_pattern'), tf.reshape(pattern, [B, H, T, P + T]));
    const z = tf.matMul(pattern as tf.Tensor3D, flat(v4, P + T)); // [BH, T, dh]
    const zHeads = tf.transpose(tf.reshape(z, [B, H, T, dh]), [0, 2, 1, 3]); // [B, T, H, dh]
    hook(hookName(l, 'attn.hook_z'), zHeads);
    return tf.reshape(zHeads, [B, T, d]) as tf.Tensor3D;
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

  private checkShape(x: tf.Tensor3D, offset = 0): void {
    const { dModel, nPositions } = this.config;
    if (x.rank !== 3 || x.shape[2] !== dModel) {
      throw new ModelInputError(`input must be [batch, tokens, ${dModel}], got [${x.shape}]`);
    }
    if (x.shape[1] === 0) throw new ModelInputError('empty input: give at least one token');
    if (offset + x.shape[1] > nPositions) {
      if (offset) throw new ModelInputError(`${offset} past positions + ${x.shape[1]} tokens exceed the model's context of ${nPositions}`);
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
