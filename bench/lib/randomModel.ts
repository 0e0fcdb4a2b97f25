// A seeded random GPT-2 in checkpoint layout (HF keys, Conv1D [in, out] matrices), for benches and tests that
// need the real shapes without real weights. The same seed gives the same numbers on every machine.
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../../src-main/corpus/rng.js';
import { parseGPT2Config, type GPT2Config } from '../../src-main/model/config.js';
import { GPT2 } from '../../src-main/model/gpt2.js';
import type { RawTensor } from '../../src-main/model/safetensors.js';
import { buildWeights, expectedKeys, type WeightOptions } from '../../src-main/model/weights.js';

export interface ModelShape {
  nLayer: number;
  dModel: number;
  nHead: number;
  dMlp: number;
  vocabSize: number;
  nPositions: number;
}

export const DISTILGPT2_SHAPE: ModelShape = { nLayer: 6, dModel: 768, nHead: 12, dMlp: 3072, vocabSize: 50257, nPositions: 1024 };

export interface RandomInit {
  seed: number;
  /** Standard deviation of every matrix and bias (GPT-2's initialiser uses 0.02). */
  std?: number;
}

export function configFor(shape: ModelShape): GPT2Config {
  return parseGPT2Config({
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    vocab_size: shape.vocabSize,
    n_positions: shape.nPositions,
    n_embd: shape.dModel,
    n_layer: shape.nLayer,
    n_head: shape.nHead,
    n_inner: shape.dMlp,
    layer_norm_epsilon: 1e-5,
  });
}

/** FNV-1a, so each tensor's stream depends on the seed and its own name only (not on key order). */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** n samples of N(mean, std²) by Box–Muller from a seeded uniform stream. */
export function gaussian(n: number, seed: number, std: number, mean = 0): Float32Array {
  const rand = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - rand(); // (0, 1]: log stays finite
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = mean + r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = mean + r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/**
 * Every checkpoint tensor (no `transformer.` prefix, tied lm_head), as the safetensors reader returns them.
 * Matrices, biases and embeddings ~ N(0, std²); layer-norm gains ~ N(1, std²) so no parameter is trivially 0 or 1.
 */
export function randomCheckpoint(shape: ModelShape, init: RandomInit): Map<string, RawTensor> {
  const std = init.std ?? 0.02;
  const out = new Map<string, RawTensor>();
  for (const [name, dims] of expectedKeys(configFor(shape))) {
    const n = dims.reduce((a, b) => a * b, 1);
    const isGain = /(^|\.)ln_(1|2|f)\.weight$/.test(name);
    const seed = (hashName(name) ^ Math.imul(init.seed | 0, 0x9e3779b1)) >>> 0;
    out.set(name, { name, dtype: 'F32', shape: dims, data: gaussian(n, seed, std, isGain ? 1 : 0) });
  }
  return out;
}

/** Our runtime model on the current tfjs backend, built through the same path as a loaded checkpoint. */
export function buildGPT2(shape: ModelShape, raw: Map<string, RawTensor>, opts: WeightOptions = {}): GPT2 {
  const config = configFor(shape);
  return new GPT2(config, buildWeights(raw, config, opts));
}

/** Seeded token ids in [0, vocab), row-major [rows, cols]. */
export function randomIds(rows: number, cols: number, vocab: number, seed: number): Int32Array {
  const rand = rng(seed);
  const ids = new Int32Array(rows * cols);
  for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(rand() * vocab);
  return ids;
}

/** Parameter count as Hugging Face reports it (tied lm_head counted once). */
export function parameterCount(raw: Map<string, RawTensor>): number {
  let n = 0;
  for (const t of raw.values()) n += t.data.length;
  return n;
}

export function idsTensor(ids: Int32Array, rows: number, cols: number): tf.Tensor2D {
  return tf.tensor2d(ids, [rows, cols], 'int32');
}

/** Token embeddings [B, T, d] for ids [B·T], read straight from the checkpoint's wte (no tfjs op involved). */
export function embedRows(raw: Map<string, RawTensor>, ids: Int32Array, B: number, T: number): tf.Tensor3D {
  const wte = raw.get('wte.weight') ?? raw.get('transformer.wte.weight');
  if (!wte) throw new Error('embedRows: checkpoint has no wte.weight');
  const d = wte.shape[1];
  const out = new Float32Array(ids.length * d);
  ids.forEach((id, i) => out.set(wte.data.subarray(id * d, (id + 1) * d), i * d));
  return tf.tensor3d(out, [B, T, d]);
}
