// Held-out evaluation of an SAE on a hook: how much of the activations' variance the reconstruction explains, how
// many latents a token uses, how many latents never fire, and what the model's next-token loss becomes when the
// reconstruction replaces the activations at the hook (against the clean run and against zeroing them).
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { evalWindows } from '../train/lmData.js';
import { keptRows, learnedPositions, windowActivations } from './activations.js';
import type { SaeHookPoint } from './config.js';

/** Latents f [n, d_sae] and reconstruction [n, d_in] of activations x [n, d_in] (new tensors the caller disposes). */
export type SaeReconstruct = (x: tf.Tensor2D) => { f: tf.Tensor2D; recon: tf.Tensor2D };

export interface ReconstructionMetrics {
  tokens: number;
  /** 1 − Σ‖x − x̂‖² / Σ‖x − mean‖², the mean over these tokens. */
  fve: number;
  /** Σ_d (x − x̂)² per token. */
  mse: number;
  /** Mean active latents per token. */
  l0: number;
  /** Fraction of latents active on none of these tokens. */
  deadFraction: number;
}

/** Metrics of `reconstruct` over activations [n, dIn], `chunk` rows at a time. */
export async function reconstructionMetrics(reconstruct: SaeReconstruct, acts: Float32Array, dIn: number, chunk = 4096): Promise<ReconstructionMetrics> {
  const n = acts.length / dIn;
  if (!Number.isInteger(n) || n === 0) throw new Error(`reconstructionMetrics: ${acts.length} values are not a positive number of ${dIn}-wide rows`);
  const mean = new Float64Array(dIn);
  for (let i = 0; i < acts.length; i++) mean[i % dIn] += acts[i] / n;
  let total = 0;
  for (let i = 0; i < acts.length; i++) total += (acts[i] - mean[i % dIn]) ** 2;
  let sse = 0;
  let active = 0;
  let fired: Float32Array | null = null;
  for (let s = 0; s < n; s += chunk) {
    const rows = Math.min(chunk, n - s);
    const stats = tf.tidy(() => {
      const x = tf.tensor2d(acts.subarray(s * dIn, (s + rows) * dIn), [rows, dIn]);
      const { f, recon } = reconstruct(x);
      const on = tf.cast(tf.greater(f, 0), 'float32');
      return { sums: tf.stack([tf.sum(tf.square(tf.sub(x, recon))), tf.sum(on)]), fired: tf.max(on, 0) };
    });
    const [sums, firedNow] = await Promise.all([stats.sums.data(), stats.fired.data()]);
    tf.dispose(stats);
    sse += sums[0];
    active += sums[1];
    if (!fired) fired = Float32Array.from(firedNow);
    else firedNow.forEach((v, j) => (fired![j] = Math.max(fired![j], v)));
  }
  const dead = fired!.reduce((a, v) => a + (v > 0 ? 0 : 1), 0);
  return { tokens: n, fve: 1 - sse / total, mse: sse / n, l0: active / n, deadFraction: dead / fired!.length };
}

/** Non-overlapping windows of a held-out stream: token ids, next-token targets, and the learned positions' activations. */
export interface HeldOutSet {
  context: number;
  windows: { ids: Int32Array; targets: Int32Array; rows: number }[];
  /** The learned positions' activations [tokens, d_in] (see activations.ts). */
  acts: Float32Array;
  tokens: number;
}

/** The first windows of `stream` covering at least `maxTokens` positions (fewer when the stream is shorter). */
export async function heldOutSet(model: GPT2, stream: Int32Array, hook: SaeHookPoint, context: number, maxTokens: number, batch = 32): Promise<HeldOutSet> {
  const d = model.config.dModel;
  const windows: HeldOutSet['windows'] = [];
  const parts: Float32Array[] = [];
  let positions = 0;
  for (const { x, y, rows } of evalWindows(stream, context, batch)) {
    const take = Math.min(rows, Math.ceil((maxTokens - positions) / context));
    const ids = x.subarray(0, take * context);
    windows.push({ ids, targets: y.subarray(0, take * context), rows: take });
    parts.push(keptRows(await windowActivations(model, ids, take, context, hook), learnedPositions(ids, context, model.config.eosTokenId), d));
    positions += take * context;
    if (positions >= maxTokens) break;
  }
  const acts = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    acts.set(p, o);
    o += p.length;
  }
  return { context, windows, acts, tokens: acts.length / d };
}

export interface SplicedLoss {
  /** Next-token targets scored. */
  tokens: number;
  /** Mean nats per token of the model as it is. */
  clean: number;
  /** With the SAE's reconstruction in place of the hook's activations at the learned positions. */
  spliced: number;
  /** With the hook's activations zeroed at the same positions. */
  zeroAblated: number;
  /** (zeroAblated − spliced) / (zeroAblated − clean): 1 when splicing costs nothing, 0 when it is as bad as zeroing. */
  recovered: number;
}

/**
 * The model's loss on the windows, clean, with the reconstruction spliced in at the hook, and zero-ablated there.
 * Splicing needs no hook inside the model: the run stops where the hook's effect enters the residual stream
 * (before block L for resid_pre, after it for resid_post and mlp_out), the stream is edited there, and the run
 * resumes from it. mlp_out is swapped inside resid_post, which is resid_mid + mlp_out. Positions the SAE never
 * learned from (each window's first, <|endoftext|> inputs) keep their clean activations.
 */
export async function splicedLoss(model: GPT2, set: HeldOutSet, hook: SaeHookPoint, reconstruct: SaeReconstruct, maxTokens = Infinity): Promise<SplicedLoss> {
  const { context: T } = set;
  const d = model.config.dModel;
  const eos = model.config.eosTokenId;
  const resume = hook.site === 'hook_resid_pre' ? hook.layer : hook.layer + 1;
  const sums = [0, 0, 0];
  let tokens = 0;
  for (const w of set.windows) {
    if (tokens >= maxTokens) break;
    const R = w.rows;
    const keep = Float32Array.from(learnedPositions(w.ids, T, eos));
    const losses = tf.tidy(() => {
      const prefix = model.run({ ids: tf.tensor2d(w.ids, [R, T], 'int32') }, { stopAtLayer: resume, skipLogits: true, hooks: hook.site === 'hook_mlp_out' ? [hook.name] : [] });
      const resid = prefix.resid;
      const x = hook.site === 'hook_mlp_out' ? (prefix.cache.get(hook.name) as tf.Tensor3D) : resid;
      const mask = tf.tensor3d(keep, [R, T, 1]);
      const { f, recon } = reconstruct(tf.reshape(x, [R * T, d]) as tf.Tensor2D);
      f.dispose();
      const xHat = tf.reshape(recon, [R, T, d]);
      const targets = tf.tensor2d(w.targets, [R, T], 'int32');
      const loss = (r: tf.Tensor) => tf.sum(model.tokenLoss({ resid: r as tf.Tensor3D, layer: resume }, targets));
      return tf.stack([loss(resid), loss(tf.add(resid, tf.mul(mask, tf.sub(xHat, x)))), loss(tf.sub(resid, tf.mul(mask, x)))]);
    });
    const v = await losses.data();
    losses.dispose();
    v.forEach((s, i) => (sums[i] += s));
    tokens += R * T;
  }
  const [clean, spliced, zeroAblated] = sums.map((s) => s / tokens);
  return { tokens, clean, spliced, zeroAblated, recovered: (zeroAblated - spliced) / (zeroAblated - clean) };
}
