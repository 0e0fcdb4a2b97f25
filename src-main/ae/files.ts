// A trained sentence autoencoder on disk: ae.json (shape, the model it belongs to, training record, metrics) and
// ae.safetensors (F16). It belongs to one language model: the fingerprint of that model's embedding matrix is
// checked on load, since an autoencoder decodes into one model's embedding space and no other.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GPT2 } from '../model/gpt2.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../model/safetensors.js';
import { aeParamShapes, SentenceAE, type AEShape } from './model.js';

export const AE_FORMAT = 'textdream-sentence-autoencoder';

export interface ModelFingerprint {
  vocabSize: number;
  dModel: number;
  nLayer: number;
  /** A few embedding entries and the mean |entry|, rounded: enough to tell models apart, robust to F16 storage. */
  probe: number[];
}

export interface AEFile {
  format: typeof AE_FORMAT;
  version: 1;
  shape: AEShape;
  model: ModelFingerprint;
  /**
   * The tokens the decoder emits (SentenceAE.vocabulary): a bitmask over the model's vocabulary, base64, token id i
   * at bit i % 8 of byte ⌊i / 8⌋. Absent in older files: the whole vocabulary.
   */
  decoderVocabulary?: { tokens: number; mask: string };
  /** How it was made (command, corpus, options, steps) and what it scores. */
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

export class AutoencoderFileError extends Error {
  override name = 'AutoencoderFileError';
}

export async function modelFingerprint(model: GPT2): Promise<ModelFingerprint> {
  const { vocabSize, dModel, nLayer } = model.config;
  const rows = [0, 13, 262, 1000, vocabSize - 1].filter((r) => r < vocabSize);
  const picked = tf.tidy(() => tf.gather(model.weights.wte, tf.tensor1d(rows, 'int32')).slice([0, 0], [-1, Math.min(4, dModel)]));
  const meanAbs = tf.tidy(() => tf.mean(tf.abs(model.weights.wte)));
  const probe = [...(await picked.data()), ...(await meanAbs.data())].map((v) => Number(v.toPrecision(3)));
  tf.dispose([picked, meanAbs]);
  return { vocabSize, dModel, nLayer, probe };
}

function sameModel(a: ModelFingerprint, b: ModelFingerprint): boolean {
  if (a.vocabSize !== b.vocabSize || a.dModel !== b.dModel || a.nLayer !== b.nLayer || a.probe.length !== b.probe.length) return false;
  return a.probe.every((v, i) => Math.abs(v - b.probe[i]) <= 0.01 * Math.max(Math.abs(v), Math.abs(b.probe[i])) + 1e-4);
}

/** A token set as AEFile.decoderVocabulary. */
export function encodeTokenSet(ids: ArrayLike<number>, vocabSize: number): { tokens: number; mask: string } {
  const bits = new Uint8Array(Math.ceil(vocabSize / 8));
  let tokens = 0;
  for (const id of Array.from(ids)) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`token id ${id} is outside the vocabulary (0-${vocabSize - 1})`);
    if (!(bits[id >> 3] & (1 << (id & 7)))) tokens += 1;
    bits[id >> 3] |= 1 << (id & 7);
  }
  return { tokens, mask: Buffer.from(bits).toString('base64') };
}

/** The sorted ids of an AEFile.decoderVocabulary, checked against its stated count and the vocabulary size. */
export function decodeTokenSet(set: { tokens: number; mask: string }, vocabSize: number, where: string): Int32Array {
  const bits = Buffer.from(set.mask, 'base64');
  const ids: number[] = [];
  for (let i = 0; i < bits.length * 8; i++) if (bits[i >> 3] & (1 << (i & 7))) ids.push(i);
  if (bits.length !== Math.ceil(vocabSize / 8) || ids.length !== set.tokens || ids.some((i) => i >= vocabSize)) {
    throw new AutoencoderFileError(`${where}: decoderVocabulary does not describe ${set.tokens} tokens of a ${vocabSize}-token vocabulary: train the autoencoder again with \`textdream train-ae\``);
  }
  return Int32Array.from(ids);
}

export async function saveAutoencoder(ae: SentenceAE, dir: string, meta: Omit<AEFile, 'format' | 'version' | 'shape' | 'decoderVocabulary'>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors = [...(await ae.values())].map(([name, data]) => ({ name, shape: aeParamShapes(ae.shape).get(name)!, data, dtype: 'F16' as const }));
  await writeSafetensorsFile(join(dir, 'ae.safetensors'), tensors);
  const file: AEFile = { format: AE_FORMAT, version: 1, shape: ae.shape, ...meta, ...(ae.vocabulary ? { decoderVocabulary: encodeTokenSet(ae.vocabulary, meta.model.vocabSize) } : {}) };
  await writeFile(join(dir, 'ae.json.tmp'), JSON.stringify(file, null, 2) + '\n');
  await rename(join(dir, 'ae.json.tmp'), join(dir, 'ae.json'));
}

export async function readAEFile(dir: string): Promise<AEFile> {
  const jsonPath = join(dir, 'ae.json');
  if (!existsSync(jsonPath)) throw new AutoencoderFileError(`no sentence autoencoder at ${dir} (ae.json is missing): train one with \`textdream train-ae\` or pass --autoencoder <dir>`);
  let file: AEFile;
  try {
    file = JSON.parse(await readFile(jsonPath, 'utf8')) as AEFile;
  } catch (e) {
    throw new AutoencoderFileError(`${jsonPath} is not valid JSON (${(e as Error).message}): train the autoencoder again with \`textdream train-ae\``);
  }
  if (file.format !== AE_FORMAT) throw new AutoencoderFileError(`${jsonPath} is not a textdream sentence autoencoder (format "${file.format}")`);
  return file;
}

/** Load an autoencoder for `model` (frozen), refusing one made for another model. */
export async function loadAutoencoder(dir: string, model: GPT2): Promise<{ ae: SentenceAE; file: AEFile }> {
  const file = await readAEFile(dir);
  const fp = await modelFingerprint(model);
  if (!sameModel(file.model, fp)) {
    throw new AutoencoderFileError(
      `the autoencoder at ${dir} was trained for another model (${file.model.nLayer} layers, width ${file.model.dModel}, different embeddings): ` +
        `train one for this model with \`textdream train-ae --model <this model>\``,
    );
  }
  const raw = await readSafetensorsFile(join(dir, 'ae.safetensors'));
  const ae = new SentenceAE(file.shape, new Map([...raw].map(([k, t]) => [k, t.data])), false);
  if (file.decoderVocabulary) ae.restrictVocabulary(decodeTokenSet(file.decoderVocabulary, model.config.vocabSize, join(dir, 'ae.json')));
  return { ae, file };
}

/** The autoencoders a model folder carries (autoencoders/k<k>/ae.json), with their held-out accuracy; unreadable ones are reported, not hidden. */
export async function listAutoencoders(modelDir: string): Promise<{ k: number; dir: string; heldOutTokenAccuracy: number | null; error?: string }[]> {
  const root = join(modelDir, 'autoencoders');
  if (!existsSync(root)) return [];
  const out = [];
  for (const name of (await readdir(root)).filter((n) => /^k\d+$/.test(n)).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))) {
    const dir = join(root, name);
    try {
      const f = await readAEFile(dir);
      out.push({ k: f.shape.k, dir, heldOutTokenAccuracy: typeof f.metrics.heldOutTokenAccuracy === 'number' ? f.metrics.heldOutTokenAccuracy : null });
    } catch (e) {
      out.push({ k: Number(name.slice(1)), dir, heldOutTokenAccuracy: null, error: (e as Error).message });
    }
  }
  return out;
}

/** Where a model folder keeps its autoencoder of latent size k. */
export function autoencoderDirFor(modelDir: string, k: number): string {
  return join(modelDir, 'autoencoders', `k${k}`);
}
