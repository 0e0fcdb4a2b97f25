// Load a sparse autoencoder from a folder in SAELens's layout: cfg.json and sae_weights.safetensors (W_enc [d_in,
// d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in], and threshold [d_sae] for JumpReLU), plus, for a
// trainer checkpoint with expected_average_only_in normalisation, activation_scaler.json. `loadSae` is the one entry;
// where the folder comes from (a path today, the hub later) is the caller's business.
import * as tf from '@tensorflow/tfjs-core';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ModelFileError, readModelJSON } from '../model/errors.js';
import { readSafetensorsFile, type RawTensor } from '../model/safetensors.js';
import { parseSaeConfig, type SaeConfig } from './config.js';
import { decode, encode, preActivation, type SaeWeights } from './encode.js';

export const SAE_CFG_FILE = 'cfg.json';
export const SAE_WEIGHTS_FILE = 'sae_weights.safetensors';
export const SAE_SCALER_FILE = 'activation_scaler.json';

export interface LoadSaeOptions {
  /** Fields laid over cfg.json before it is read, as SAELens's registry does with a release's `config_overrides`. */
  cfgOverrides?: Record<string, unknown>;
  /** The expected_average_only_in factor (a release's `norm_scaling_factor`); wins over activation_scaler.json. */
  normScalingFactor?: number;
}

/** A loaded SAE: its config and weight tensors. Call dispose() when done with it. */
/** Where a model folder keeps its SAE for `hook` (train-sae writes there; `sae:L2.resid_pre:N` reads there). */
export function saeDirFor(modelDir: string, hook: string): string {
  return join(modelDir, 'saes', hook);
}

export class Sae {
  constructor(
    readonly config: SaeConfig,
    readonly weights: SaeWeights,
    /** The folder it was loaded from. */
    readonly dir: string,
  ) {}

  /** Pre-activations [..., d_sae] of activations x [..., d_in]: differentiable, no threshold (see encode.ts). */
  preActivation(x: tf.Tensor): tf.Tensor {
    return preActivation(this.config, this.weights, x);
  }

  /** Latent activations [..., d_sae], as SAELens's `encode`. */
  encode(x: tf.Tensor): tf.Tensor {
    return encode(this.config, this.weights, x);
  }

  /** Reconstruction [..., d_in] of latents f; pass the encoded x to return to the model's stream (see encode.ts). */
  decode(f: tf.Tensor, x?: tf.Tensor): tf.Tensor {
    return decode(this.config, this.weights, f, x);
  }

  dispose(): void {
    const w = this.weights;
    tf.dispose([w.W_enc, w.b_enc, w.W_dec, w.b_dec, ...(w.threshold ? [w.threshold] : []), ...(w.decoderNorms ? [w.decoderNorms] : [])]);
  }
}

export async function loadSae(dir: string, opts: LoadSaeOptions = {}): Promise<Sae> {
  const folder = resolve(dir);
  const isDir = await stat(folder).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new ModelFileError('not found or not a folder', folder, `pass the folder that holds ${SAE_CFG_FILE} and ${SAE_WEIGHTS_FILE}`);

  const cfgFile = join(folder, SAE_CFG_FILE);
  const raw = await readModelJSON(cfgFile, `an SAELens SAE folder holds ${SAE_CFG_FILE} and ${SAE_WEIGHTS_FILE}`, SAE_CFG_FILE);
  const merged = opts.cfgOverrides && isObject(raw) ? { ...raw, ...opts.cfgOverrides } : raw;
  const normScalingFactor = opts.normScalingFactor ?? (await readScalingFactor(join(folder, SAE_SCALER_FILE)));
  const config = parseSaeConfig(merged, cfgFile, { normScalingFactor });

  const weightsFile = join(folder, SAE_WEIGHTS_FILE);
  const isFile = await stat(weightsFile).then((s) => s.isFile(), () => false);
  if (!isFile) {
    throw new ModelFileError('missing', weightsFile, `an SAELens SAE folder holds ${SAE_CFG_FILE} and ${SAE_WEIGHTS_FILE}; download or export the weights again`);
  }
  const tensors = checkSaeTensors(await readSafetensorsFile(weightsFile), config, weightsFile);
  return new Sae(config, buildSaeWeights(tensors, config), folder);
}

/** activation_scaler.json's factor, or undefined when the file is absent or holds null (nothing was estimated). */
async function readScalingFactor(file: string): Promise<number | undefined> {
  const exists = await stat(file).then((s) => s.isFile(), () => false);
  if (!exists) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ModelFileError(`not valid JSON (${(e as Error).message})`, file, 'restore it from the training checkpoint, or delete it');
  }
  const factor = isObject(parsed) ? parsed.scaling_factor : undefined;
  if (factor === null) return undefined;
  if (typeof factor !== 'number') {
    throw new ModelFileError(`"scaling_factor" must be a number or null, got ${JSON.stringify(factor)}`, file, 'restore it from the training checkpoint');
  }
  return factor;
}

/** The weight shapes cfg.json implies, by tensor name. */
function expectedShapes(c: SaeConfig): Map<string, { shape: number[]; formula: string }> {
  const m = new Map([
    ['W_enc', { shape: [c.dIn, c.dSae], formula: '[d_in, d_sae]' }],
    ['b_enc', { shape: [c.dSae], formula: '[d_sae]' }],
    ['W_dec', { shape: [c.dSae, c.dIn], formula: '[d_sae, d_in]' }],
    ['b_dec', { shape: [c.dIn], formula: '[d_in]' }],
  ]);
  if (c.architecture === 'jumprelu') m.set('threshold', { shape: [c.dSae], formula: '[d_sae]' });
  return m;
}

/**
 * Every tensor the architecture needs, with the shape cfg.json implies, and nothing else: SAELens loads its state
 * dict strictly, so a stray tensor means the file is some other kind of SAE. The one exception is SAELens's own: a
 * `scaling_factor` of all ones, which its older trainers saved and its loader drops.
 */
export function checkSaeTensors(tensors: Map<string, RawTensor>, c: SaeConfig, file: string): Map<string, RawTensor> {
  const want = expectedShapes(c);
  const dims = `d_in ${c.dIn}, d_sae ${c.dSae}`;
  for (const [name, { shape, formula }] of want) {
    const t = tensors.get(name);
    if (!t) {
      const why = name === 'threshold' ? ' (a jumprelu SAE needs its per-latent thresholds)' : '';
      throw new ModelFileError(`tensor ${name} ${formula} is missing${why}`, file, 'check that the weights are a complete SAELens SAE');
    }
    if (t.shape.join(',') !== shape.join(',')) {
      throw new ModelFileError(
        `tensor ${name} has shape [${t.shape}] but cfg.json (${dims}) implies ${formula} = [${shape}]`,
        file,
        'check that cfg.json belongs to these weights',
      );
    }
  }
  const scaling = tensors.get('scaling_factor');
  if (scaling && scaling.data.some((v) => v !== 1)) {
    throw new ModelFileError('tensor scaling_factor (a finetuning scaling of the latents) is not all ones, which is not supported', file, 'use an SAE without a finetuning scaling factor');
  }
  const stray = [...tensors.keys()].filter((k) => !want.has(k) && k !== 'scaling_factor');
  if (stray.length) {
    throw new ModelFileError(
      `tensor${stray.length > 1 ? 's' : ''} ${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} not part of a ${c.architecture} SAE (it has ${[...want.keys()].join(', ')})`,
      file,
      'check the architecture in cfg.json; other SAE architectures are not supported',
    );
  }
  return tensors;
}

function buildSaeWeights(tensors: Map<string, RawTensor>, c: SaeConfig): SaeWeights {
  const mk = (name: string) => {
    const r = tensors.get(name)!;
    return tf.tensor(r.data, r.shape, 'float32');
  };
  const W_dec = mk('W_dec') as tf.Tensor2D;
  return {
    W_enc: mk('W_enc') as tf.Tensor2D,
    b_enc: mk('b_enc') as tf.Tensor1D,
    W_dec,
    b_dec: mk('b_dec') as tf.Tensor1D,
    threshold: c.architecture === 'jumprelu' ? (mk('threshold') as tf.Tensor1D) : undefined,
    decoderNorms: c.rescaleActsByDecoderNorm ? tf.tidy(() => tf.sqrt(tf.sum(tf.square(W_dec), 1)) as tf.Tensor1D) : undefined,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
