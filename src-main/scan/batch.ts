// One batch of a scan on the backend: a single forward pass (hooks on mlp.hook_post of the scanned layers, no
// logits), every neuron of a layer at once. Per window the backend reduces positions to max, mean and fraction
// > 0 (pooling over the window, which runs as SIMD kernels); JavaScript then pulls the per-token values of only
// the windows that may enter some neuron's top-k (or are random-sample windows) and the sampled token rows.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { hookName } from '../model/hooks.js';
import { sampleRows, type BatchWindow, type LayerAccumulator, type LayerBatch } from './accumulate.js';

export interface BatchSpec {
  windows: BatchWindow[];
  /** Each window's token ids (length = its len). */
  ids: Int32Array[];
  /** Windows whose per-token values are needed whatever their maxima (random-sample windows). */
  mustPull: boolean[];
}

/** Token ids [B, T1]: <|endoftext|> then the window, padded with <|endoftext|> (causal attention never sees the padding). */
export function batchIds(spec: BatchSpec, bos: number, pad: number): { ids: Int32Array; T: number } {
  const T = Math.max(1, ...spec.windows.map((w) => w.len));
  const T1 = T + 1;
  const ids = new Int32Array(spec.windows.length * T1).fill(pad);
  spec.ids.forEach((w, b) => {
    ids[b * T1] = bos;
    ids.set(w, b * T1 + 1);
  });
  return { ids, T };
}

/** The forward pass alone, as the bench's reference: same ids, hooks and stop, activations read back. */
export async function bareForward(model: GPT2, layers: number[], ids: Int32Array, B: number, T1: number): Promise<void> {
  const hooks = layers.map((l) => hookName(l, 'mlp.hook_post'));
  const out = tf.tidy(() => {
    const r = model.run({ ids: tf.tensor2d(ids, [B, T1], 'int32') }, { hooks, stopAtLayer: Math.max(...layers) + 1, skipLogits: true });
    return hooks.map((h) => r.cache.get(h)!);
  });
  try {
    await Promise.all(out.map((t) => t.data()));
  } finally {
    tf.dispose(out);
  }
}

interface LayerTensors {
  h: tf.Tensor3D; // [B, T1, N]
  wmax: tf.Tensor;
  wmean: tf.Tensor;
  wpos: tf.Tensor;
  sample: tf.Tensor;
}

/**
 * Units a scan reads from one hook: a layer's MLP neurons (`mlp.hook_post` as it is), or an SAE's latents (its
 * hook's activations encoded). `layer` keys the group's rows in the store.
 */
export interface ScanGroup {
  layer: number;
  units: number;
  hook: string;
  /** [B, T, d] hook activations → [B, T, units] (inside the batch's tidy); none = the activations themselves. */
  read?: (h: tf.Tensor) => tf.Tensor;
}

/** A layer's MLP neurons. */
export function neuronScanGroup(model: GPT2, layer: number): ScanGroup {
  return { layer, units: model.config.dMlp, hook: hookName(layer, 'mlp.hook_post') };
}

/**
 * Run one batch and fold it into the accumulators (one per group, in `groups` order). Returns, per group, the
 * per-token activations [len, units] of the windows pulled, for the caller's random-sample rows.
 */
export async function scanBatch(
  model: GPT2,
  groups: ScanGroup[],
  accs: LayerAccumulator[],
  spec: BatchSpec,
  sampleEvery: number,
): Promise<Map<number, Float32Array>[]> {
  const B = spec.windows.length;
  const { bos, pad } = { bos: model.config.bosTokenId, pad: model.config.eosTokenId };
  const { ids, T } = batchIds(spec, bos, pad);
  const T1 = T + 1;
  const rowsIdx = sampleRows(spec.windows, T1, sampleEvery);
  const hooks = [...new Set(groups.map((g) => g.hook))];
  const stopAtLayer = Math.max(...groups.map((g) => g.layer)) + 1;
  const kept: LayerTensors[] = tf.tidy(() => {
    const r = model.run({ ids: tf.tensor2d(ids, [B, T1], 'int32') }, { hooks, stopAtLayer, skipLogits: true });
    const rowIdx = tf.tensor1d(Int32Array.from(rowsIdx), 'int32');
    // Pooling [T, 1] with stride 1 over T1 = T + 1 positions gives two outputs; the second covers positions 1…T.
    const pool = (x: tf.Tensor, kind: 'max' | 'avg') => {
      const N = x.shape[2]!;
      const x4 = tf.reshape(x, [B, T1, 1, N]) as tf.Tensor4D;
      const p = kind === 'max' ? tf.maxPool(x4, [T, 1], [1, 1], 'valid') : tf.avgPool(x4, [T, 1], [1, 1], 'valid');
      return tf.reshape(tf.slice(p, [0, 1, 0, 0], [B, 1, 1, N]), [B, N]); // [B, N]
    };
    return groups.map((g) => {
      const N = g.units;
      const x = r.cache.get(g.hook)!;
      const h = (g.read ? g.read(x) : x) as tf.Tensor3D; // [B, T1, N]
      return {
        h,
        wmax: pool(h, 'max'),
        wmean: pool(h, 'avg'),
        wpos: pool(tf.step(h), 'avg'),
        sample: rowsIdx.length ? tf.gather(tf.reshape(h, [B * T1, N]), rowIdx) : tf.zeros([0, N]), // [R, N]
      };
    });
  });
  try {
    const small = await Promise.all(kept.map(async (k) => (await Promise.all([k.wmax.data(), k.wmean.data(), k.wpos.data(), k.sample.data()])) as Float32Array[]));
    const want = spec.mustPull.slice();
    accs.forEach((acc, i) => acc.wanted(spec.windows, T, small[i][0], want));
    const pulled = want.filter(Boolean).length;
    const rows = await Promise.all(
      kept.map(async (k, gi) => {
        const N = groups[gi].units;
        const m = new Map<number, Float32Array>();
        if (!pulled) return m;
        if (2 * pulled >= B) {
          // Most windows needed: one read of the whole block, viewed per window.
          const all = (await k.h.data()) as Float32Array;
          spec.windows.forEach((w, b) => want[b] && m.set(b, all.subarray((b * T1 + 1) * N, (b * T1 + 1 + w.len) * N)));
        } else {
          for (let b = 0; b < B; b++) {
            if (!want[b]) continue;
            const one = tf.slice(k.h, [b, 1, 0], [1, spec.windows[b].len, N]);
            try {
              m.set(b, (await one.data()) as Float32Array);
            } finally {
              one.dispose();
            }
          }
        }
        return m;
      }),
    );
    accs.forEach((acc, i) => {
      const [wmax, wmean, wpos, sample] = small[i];
      const batch: LayerBatch = { windows: spec.windows, T, wmax, wmean, wpos, rows: rows[i], sample };
      acc.add(batch);
    });
    return rows;
  } finally {
    for (const k of kept) tf.dispose([k.h, k.wmax, k.wmean, k.wpos, k.sample]);
  }
}
