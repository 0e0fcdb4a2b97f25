// What an SAE learns from: a hook's activations per token, read by running the model over windows of a token
// stream. Each window's first position (whatever its token, its residual norm is an outlier: the attention sink) and
// every position whose input is <|endoftext|> are left out. Training draws from "fills": a fill is the activations
// of enough random windows for `bufferBatches` steps, shuffled across windows, so a batch mixes tokens of many
// texts. Fill f and its order are functions of (seed, f) only, so a resumed run reads exactly the batches an
// uninterrupted one would have.
import * as tf from '@tensorflow/tfjs-core';
import { rng, shuffle } from '../corpus/rng.js';
import type { GPT2 } from '../model/gpt2.js';
import { hookName } from '../model/hooks.js';
import { sampleBatch } from '../train/lmData.js';
import { SAE_HOOK_SITES, type SaeHookPoint, type SaeHookSite } from './config.js';

/** The hook sites an SAE may read (config.ts's list), as the command line and `sae:L2.resid_pre` name them. */
export type SaeSiteName = SaeHookSite extends `hook_${infer S}` ? S : never;
export const SAE_SITES: readonly SaeSiteName[] = SAE_HOOK_SITES.map((s) => s.slice('hook_'.length) as SaeSiteName);

export function saeHookPoint(layer: number, site: SaeSiteName): SaeHookPoint {
  const kind: SaeHookSite = `hook_${site}`;
  return { layer, site: kind, name: hookName(layer, kind) };
}

/** A source of training batches: `batch(step)` is [batchTokens, dIn] row-major, the same on every call. */
export interface ActivationSource {
  readonly dIn: number;
  batch(step: number): Promise<Float32Array>;
  /** Up to n rows [n, dIn] representative of the training data (b_dec's initialisation). */
  sample(n: number): Promise<Float32Array>;
}

/** Training-data problems a user can fix (a corpus too small for one window, say). */
export class SaeDataError extends Error {
  override name = 'SaeDataError';
}

/** 1 for each position of windows [rows·T] that an SAE learns from: not a window's first, not <|endoftext|>. */
export function learnedPositions(ids: Int32Array, T: number, eos: number): Uint8Array {
  const keep = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) keep[i] = i % T !== 0 && ids[i] !== eos ? 1 : 0;
  return keep;
}

/** The hook's activations [rows·T, d] for windows ids [rows·T]. */
export async function windowActivations(model: GPT2, ids: Int32Array, rows: number, T: number, hook: SaeHookPoint): Promise<Float32Array> {
  const acts = tf.tidy(() => {
    const run = model.run({ ids: tf.tensor2d(ids, [rows, T], 'int32') }, { hooks: [hook.name], stopAtLayer: hook.layer + 1, skipLogits: true });
    return run.cache.get(hook.name)!.clone();
  });
  const data = (await acts.data()) as Float32Array;
  acts.dispose();
  return data;
}

/** The learned positions' rows of activations [rows·T, d], packed [n, d]. */
export function keptRows(acts: Float32Array, keep: Uint8Array, d: number): Float32Array {
  let n = 0;
  for (const k of keep) n += k;
  const out = new Float32Array(n * d);
  let o = 0;
  keep.forEach((k, i) => {
    if (k) out.set(acts.subarray(i * d, (i + 1) * d), d * o++);
  });
  return out;
}

export interface HookSourceOptions {
  hook: SaeHookPoint;
  /** Tokens per window (at most the model's context). */
  context: number;
  /** Tokens per step. */
  batch: number;
  /** Steps served by one fill. */
  bufferBatches: number;
  seed: number;
}

/** Most windows run through the model at once while filling. */
const WINDOWS_PER_RUN = 32;

export class HookActivationSource implements ActivationSource {
  readonly dIn: number;
  private current: { fill: number; rows: Float32Array } | null = null;

  constructor(
    readonly model: GPT2,
    readonly stream: Int32Array,
    readonly o: HookSourceOptions,
  ) {
    this.dIn = model.config.dModel;
    if (stream.length < o.context + 2) {
      throw new SaeDataError(`the corpus's training split has ${stream.length} tokens, fewer than one window of ${o.context + 1}: use a larger corpus`);
    }
  }

  /** Tokens in one fill. */
  get fillTokens(): number {
    return this.o.batch * this.o.bufferBatches;
  }

  async batch(step: number): Promise<Float32Array> {
    const rows = await this.fill(Math.floor(step / this.o.bufferBatches));
    const at = (step % this.o.bufferBatches) * this.o.batch * this.dIn;
    return rows.subarray(at, at + this.o.batch * this.dIn);
  }

  async sample(n: number): Promise<Float32Array> {
    const rows = await this.fill(0);
    return rows.subarray(0, Math.min(n, this.fillTokens) * this.dIn);
  }

  /** Fill f: kept-token activations of seeded random windows, cut to fillTokens rows, in a seeded random order. */
  async fill(f: number): Promise<Float32Array> {
    if (this.current?.fill === f) return this.current.rows;
    const { context: T, seed } = this.o;
    const d = this.dIn;
    const need = this.fillTokens;
    const eos = this.model.config.eosTokenId;
    const rows = new Float32Array(need * d);
    const windows = Math.min(WINDOWS_PER_RUN, Math.ceil(need / Math.max(1, T - 1)));
    let n = 0;
    for (let run = 0; n < need; run++) {
      // Runs are numbered within a fill (at most 1000, far more than a fill needs) so that fills never share windows' seeds.
      if (run >= 1000) throw new SaeDataError(`found only ${n} usable tokens in 1000 batches of windows: the training text is almost all <|endoftext|>`);
      const { x } = sampleBatch(this.stream, windows, T, seed, f * 1000 + run);
      const kept = keptRows(await windowActivations(this.model, x, windows, T, this.o.hook), learnedPositions(x, T, eos), d);
      const take = Math.min(kept.length / d, need - n);
      rows.set(kept.subarray(0, take * d), n * d);
      n += take;
    }
    const order = shuffle(
      Array.from({ length: need }, (_, i) => i),
      rng(seed * 65_537 + f),
    );
    const out = new Float32Array(need * d);
    order.forEach((src, dst) => out.set(rows.subarray(src * d, (src + 1) * d), dst * d));
    this.current = { fill: f, rows: out };
    return out;
  }
}
