// The dream configuration's types as plain data, for the API contract and the renderer: nothing here reaches the
// method files (and through them tfjs and Node), so the renderer type-checks against it without Node's types.
// dream/config.ts assembles the full configuration, each method's own settings included.
import type { z } from 'zod';
import type { COMMON_SETTINGS, SHARED_SETTINGS } from './common.js';
import type { SettingMeta } from './kinds.js';

/** How per-token activations become one value per sequence (objectives.ts). */
export type Reduce = 'mean' | 'max' | 'last';
export type Transform = 'none' | 'sigmoid';
/** Continuous embeddings → token ids (decode.ts). */
export type DecoderName = (typeof SHARED_SETTINGS.decoder.def.innerType.options)[number];

export type TargetSpec =
  | { kind: 'neuron'; layer: number; neuron: number }
  | { kind: 'direction'; hook: string; layer: number; direction: number[]; label?: string }
  /** Weighted neurons, and (optionally) weighted SAE latents (`sae` as in the 'sae' kind): `latent − 0.5·neuron`. */
  | {
      kind: 'sum';
      terms: { layer: number; neuron: number; weight: number }[];
      latents?: { sae: string; latent: number; weight: number }[];
      /** Weighted attention heads' output norms (objectives.ts headTarget). */
      heads?: { layer: number; head: number; weight: number }[];
    }
  /** The norm of one attention head's output (`L<layer>H<head>` in an objective expression). */
  | { kind: 'head'; layer: number; head: number }
  /** One latent of a sparse autoencoder in SAELens layout: `sae` is its folder, or `L<layer>.<site>` for the model folder's saes/blocks.<layer>.hook_<site>. */
  | { kind: 'sae'; sae: string; latent: number };

/** A setting as the CLI, the form and the docs see it. */
export interface SettingField extends SettingMeta {
  key: string;
  /** The CLI flag and the form's test id: `seqLen` → `seq-len`. */
  flag: string;
  default?: unknown;
  /** The methods that read it; absent: every method. */
  methods?: string[];
  /** Declared in COMMON_SETTINGS (every method), SHARED_SETTINGS (several) or a method's own file. */
  group: 'common' | 'shared' | 'method';
}

/**
 * A dream's configuration as it crosses the API and is stored: the target, the method's name and every common and
 * shared setting, typed. A method's own settings travel beside them (the object holds them), typed only where the
 * method's declaration is known (dream/config.ts DreamConfig).
 */
export type WireDreamConfig = { target: TargetSpec; method: string } & z.output<z.ZodObject<typeof COMMON_SETTINGS & typeof SHARED_SETTINGS>>;
