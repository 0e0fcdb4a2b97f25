// Writing a trained TopK SAE in SAELens's on-disk layout, as loadSae (load.ts) and SAELens 6 read it: cfg.json
// (architecture "topk", k, apply_b_dec_to_input, normalize_activations "none", metadata.hook_name, ...) and
// sae_weights.safetensors (W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in], float32).
// cfg.json also carries a `textdream` block saying how the SAE was made and what it scores; SAELens ignores it.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensorsFile } from '../model/safetensors.js';
import { parseSaeConfig, type SaeConfig, type SaeHookPoint } from './config.js';
import { SAE_CFG_FILE, SAE_WEIGHTS_FILE } from './load.js';

/**
 * The SAELens version whose cfg.json layout is written (top-level architecture fields, the rest in `metadata`).
 * SAELens reads a config without a version of 6 or more as an older flat one, so the layout has to say which it is;
 * the `textdream` block records that textdream, not SAELens, wrote the file.
 */
export const SAELENS_LAYOUT_VERSION = '6.0.0';

export interface TopKSaeDescription {
  dIn: number;
  dSae: number;
  k: number;
  applyBDecToInput: boolean;
  hook: SaeHookPoint;
  /** The model's name as cfg.json should carry it (SAELens's model_name). */
  modelName: string;
  /** Tokens per window the activations were read in (SAELens's context_size). */
  contextSize: number;
  /** The training text (SAELens's dataset_path). */
  dataset: string;
  /** How textdream made it: command, settings, corpus, steps, held-out figures. */
  textdream?: Record<string, unknown>;
}

/** cfg.json's object for a TopK SAE. */
export function topkSaeConfigJson(s: TopKSaeDescription): Record<string, unknown> {
  return {
    architecture: 'topk',
    d_in: s.dIn,
    d_sae: s.dSae,
    k: s.k,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: s.applyBDecToInput,
    normalize_activations: 'none',
    reshape_activations: 'none',
    rescale_acts_by_decoder_norm: false,
    metadata: {
      sae_lens_version: SAELENS_LAYOUT_VERSION,
      model_name: s.modelName,
      hook_name: s.hook.name,
      hook_head_index: null,
      // The activations came from windows cut anywhere in the token stream, not from texts that begin with a BOS.
      prepend_bos: false,
      context_size: s.contextSize,
      dataset_path: s.dataset,
      model_from_pretrained_kwargs: { center_writing_weights: false },
    },
    ...(s.textdream ? { textdream: s.textdream } : {}),
  };
}

/** The config loadSae would parse from that cfg.json: the trainer's settings in the loader's terms. */
export function topkSaeConfig(s: TopKSaeDescription): SaeConfig {
  return parseSaeConfig(topkSaeConfigJson(s));
}

export interface TopKSaeWeights {
  W_enc: Float32Array;
  b_enc: Float32Array;
  W_dec: Float32Array;
  b_dec: Float32Array;
}

/** Writes cfg.json and sae_weights.safetensors into `dir` (created if needed), each atomically. */
export async function writeTopKSae(dir: string, s: TopKSaeDescription, w: TopKSaeWeights): Promise<void> {
  const { dIn, dSae } = s;
  const tensors = [
    { name: 'W_enc', shape: [dIn, dSae], data: w.W_enc },
    { name: 'b_enc', shape: [dSae], data: w.b_enc },
    { name: 'W_dec', shape: [dSae, dIn], data: w.W_dec },
    { name: 'b_dec', shape: [dIn], data: w.b_dec },
  ];
  for (const t of tensors) {
    const want = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== want) throw new Error(`writeTopKSae: ${t.name} has ${t.data.length} values; [${t.shape}] needs ${want}`);
  }
  await mkdir(dir, { recursive: true });
  await writeSafetensorsFile(join(dir, SAE_WEIGHTS_FILE), tensors.map((t) => ({ ...t, dtype: 'F32' as const })));
  const cfg = join(dir, SAE_CFG_FILE);
  await writeFile(`${cfg}.tmp`, JSON.stringify(topkSaeConfigJson(s), null, 2) + '\n');
  await rename(`${cfg}.tmp`, cfg);
}
