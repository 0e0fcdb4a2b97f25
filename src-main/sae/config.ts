// A sparse autoencoder's cfg.json as SAELens writes it (6.x: `architecture` + `metadata`; before 6.0: one flat object
// with `hook_point`/`hook_name` and `activation_fn_str`), validated into the few facts encoding needs. Everything
// unsupported is refused with the field, the file and what is supported: an SAE that loads but encodes differently
// from SAELens would be worse than none.
import { ModelFileError } from '../model/errors.js';
import { hookName, parseHookName, type BlockHook } from '../model/hooks.js';

export const SAE_ARCHITECTURES = ['standard', 'jumprelu', 'topk'] as const;
export type SaeArchitecture = (typeof SAE_ARCHITECTURES)[number];

export const SAE_NORMALIZATIONS = ['none', 'constant_norm_rescale', 'expected_average_only_in', 'layer_norm'] as const;

/** The hook points an SAE may read: the residual stream around a block and the MLP's output. */
export const SAE_HOOK_SITES = ['hook_resid_pre', 'hook_resid_post', 'hook_mlp_out'] as const satisfies readonly BlockHook[];
export type SaeHookSite = (typeof SAE_HOOK_SITES)[number];

/** How SAELens rescales an activation vector before encoding (and undoes it after decoding). */
export type SaeNormalization =
  | { kind: 'none' }
  /** Each token vector scaled to norm √d_in. */
  | { kind: 'constant_norm_rescale' }
  /** Each token vector standardised: minus its mean, over its (n−1) standard deviation + 1e-5. */
  | { kind: 'layer_norm' }
  /** Every vector multiplied by one constant, √d_in over the training data's mean norm. */
  | { kind: 'expected_average_only_in'; scalingFactor: number };

export interface SaeHookPoint {
  layer: number;
  site: SaeHookSite;
  /** The project's hook name (src-main/model/hooks.ts), e.g. `blocks.2.hook_resid_pre`. */
  name: string;
}

export interface SaeConfig {
  dIn: number;
  dSae: number;
  architecture: SaeArchitecture;
  /** Latents kept per token; topk only, null otherwise. */
  k: number | null;
  /** topk only: pre-activations are scaled by each latent's decoder-row norm before the top k are chosen. */
  rescaleActsByDecoderNorm: boolean;
  applyBDecToInput: boolean;
  normalization: SaeNormalization;
  hook: SaeHookPoint;
  /**
   * The SAE was trained on a residual stream from a model loaded with TransformerLens's
   * `center_writing_weights`: every write to the stream (embeddings, attention and MLP outputs) has its mean over
   * d_model removed, so each token's stream vector has mean zero. That is exactly the uncentred vector minus its own
   * mean, so encoding subtracts the per-token mean first. From `model_from_pretrained_kwargs.center_writing_weights`
   * (top level, else in `metadata`); false when absent, SAELens's own training default.
   */
  centreInput: boolean;
  /** Whether the training text began with a BOS token (SAELens defaults to true). */
  prependBos: boolean;
  /** The model the SAE was trained on, as cfg.json names it (e.g. `gpt2-small`), or null. */
  modelName: string | null;
  /** cfg.json after any overrides, for fields we do not interpret. */
  raw: Record<string, unknown>;
}

export interface SaeConfigOptions {
  /**
   * The constant of `expected_average_only_in` normalisation, which SAELens keeps outside cfg.json (the trainer's
   * activation_scaler.json, or a release's `norm_scaling_factor` in its pretrained_saes.yaml). Used only when
   * cfg.json asks for that normalisation, as SAELens does.
   */
  normScalingFactor?: number;
}

const FIX_CFG = 'use the cfg.json saved with these SAE weights (SAELens layout)';

/** Parse cfg.json's object; `file` names it in every error. */
export function parseSaeConfig(raw: unknown, file = 'cfg.json', opts: SaeConfigOptions = {}): SaeConfig {
  if (!isObject(raw)) throw new ModelFileError('not a JSON object', file, FIX_CFG);
  const meta = raw.metadata === undefined || raw.metadata === null ? {} : raw.metadata;
  if (!isObject(meta)) throw new ModelFileError(`"metadata" must be an object, got ${JSON.stringify(meta)}`, file, FIX_CFG);

  const dIn = positiveInt(raw, 'd_in', file);
  const dSae = positiveInt(raw, 'd_sae', file);
  const { architecture, k } = architectureOf(raw, file, dSae);
  const rescale = optionalBool(raw, 'rescale_acts_by_decoder_norm', false, file);
  if (rescale && architecture !== 'topk') {
    throw new ModelFileError(`rescale_acts_by_decoder_norm is true, which SAELens defines for topk only (architecture is "${architecture}")`, file, FIX_CFG);
  }
  // SAELens < 6 could scale latents by a learned vector before decoding; 6.x no longer loads such SAEs.
  if (optionalBool(raw, 'finetuning_scaling_factor', false, file)) {
    throw new ModelFileError('finetuning_scaling_factor is true, which is not supported (supported: false)', file, 'use an SAE without a finetuning scaling factor');
  }
  const headIndex = meta.hook_head_index ?? raw.hook_head_index ?? raw.hook_point_head_index;
  if (headIndex !== undefined && headIndex !== null) {
    throw new ModelFileError(`hook_head_index is ${JSON.stringify(headIndex)}: SAEs on one attention head are not supported (supported: null)`, file, 'use an SAE trained on a whole hook point');
  }
  // Top level first: flat configs keep it there, and so do a release's config_overrides laid over a 6.x cfg.json.
  const kwargs = raw.model_from_pretrained_kwargs ?? meta.model_from_pretrained_kwargs;
  if (kwargs !== undefined && kwargs !== null && !isObject(kwargs)) {
    throw new ModelFileError(`model_from_pretrained_kwargs must be an object, got ${JSON.stringify(kwargs)}`, file, FIX_CFG);
  }
  const centre = kwargs?.center_writing_weights ?? false;
  if (typeof centre !== 'boolean') {
    throw new ModelFileError(`model_from_pretrained_kwargs.center_writing_weights must be true or false, got ${JSON.stringify(centre)}`, file, FIX_CFG);
  }
  const prependBos = meta.prepend_bos ?? raw.prepend_bos ?? true;
  if (typeof prependBos !== 'boolean') throw new ModelFileError(`prepend_bos must be true or false, got ${JSON.stringify(prependBos)}`, file, FIX_CFG);
  const modelName = meta.model_name ?? raw.model_name ?? null;

  return {
    dIn,
    dSae,
    architecture,
    k,
    rescaleActsByDecoderNorm: rescale,
    applyBDecToInput: optionalBool(raw, 'apply_b_dec_to_input', true, file),
    normalization: normalizationOf(raw, file, opts.normScalingFactor),
    hook: hookOf(meta, raw, file),
    centreInput: centre,
    prependBos,
    modelName: typeof modelName === 'string' ? modelName : null,
    raw,
  };
}

/**
 * The hook an SAE reads, from a TransformerLens name: 6.x keeps it in `metadata.hook_name`, 4.x-5.x in `hook_name`,
 * older configs in `hook_point`.
 */
function hookOf(meta: Record<string, unknown>, raw: Record<string, unknown>, file: string): SaeHookPoint {
  const field = meta.hook_name !== undefined ? 'metadata.hook_name' : raw.hook_name !== undefined ? 'hook_name' : 'hook_point';
  const name = meta.hook_name ?? raw.hook_name ?? raw.hook_point;
  const supported = `blocks.L.{${SAE_HOOK_SITES.join(',')}}`;
  if (typeof name !== 'string') {
    throw new ModelFileError(`no hook point: metadata.hook_name, hook_name and hook_point are all missing (supported: ${supported})`, file, FIX_CFG);
  }
  const parsed = parseHookName(name);
  if (!parsed || !(SAE_HOOK_SITES as readonly string[]).includes(parsed.kind)) {
    throw new ModelFileError(`${field} "${name}" is not supported (supported: ${supported})`, file, 'use an SAE trained on the residual stream or an MLP output');
  }
  const site = parsed.kind as SaeHookSite;
  return { layer: parsed.layer, site, name: hookName(parsed.layer, site) };
}

/**
 * The architecture, as SAELens 6 reads it: `architecture` itself; for configs older than 6.0 missing means
 * "standard", the activation comes from `activation_fn_str` (or `activation_fn`), and a topk activation with a k
 * makes the SAE a topk one.
 */
function architectureOf(raw: Record<string, unknown>, file: string, dSae: number): { architecture: SaeArchitecture; k: number | null } {
  const supported = SAE_ARCHITECTURES.join(', ');
  const pre6 = isPre6(raw);
  const archField = raw.architecture ?? (pre6 ? 'standard' : undefined);
  if (archField === undefined) {
    throw new ModelFileError(`architecture is missing (supported: ${supported})`, file, 'add "architecture" to cfg.json');
  }
  if (typeof archField !== 'string' || !(SAE_ARCHITECTURES as readonly string[]).includes(archField)) {
    throw new ModelFileError(`architecture ${JSON.stringify(archField)} is not supported (supported: ${supported})`, file, `use an SAE of architecture ${supported}`);
  }
  let architecture = archField as SaeArchitecture;
  const kwargs = raw.activation_fn_kwargs ?? {};
  if (!isObject(kwargs)) throw new ModelFileError(`activation_fn_kwargs must be an object, got ${JSON.stringify(kwargs)}`, file, FIX_CFG);
  const kValue = raw.k ?? kwargs.k;
  if (pre6) {
    const actField = raw.activation_fn_str !== undefined ? 'activation_fn_str' : 'activation_fn';
    const act = raw.activation_fn_str ?? raw.activation_fn ?? 'relu';
    if (act !== 'relu' && act !== 'topk') {
      throw new ModelFileError(`${actField} ${JSON.stringify(act)} is not supported (supported: relu, topk)`, file, 'use an SAE with a relu or topk activation');
    }
    if (act === 'topk' && architecture === 'standard') architecture = 'topk';
    if (act === 'topk' && architecture !== 'topk') {
      throw new ModelFileError(`${actField} "topk" does not go with architecture "${architecture}"`, file, FIX_CFG);
    }
  }
  if (architecture !== 'topk') return { architecture, k: null };
  if (typeof kValue !== 'number' || !Number.isInteger(kValue) || kValue <= 0 || kValue > dSae) {
    throw new ModelFileError(
      `a topk SAE needs k (top level or activation_fn_kwargs.k), an integer from 1 to d_sae (${dSae}); got ${JSON.stringify(kValue)}`,
      file,
      FIX_CFG,
    );
  }
  return { architecture, k: kValue };
}

/** SAELens 6 rewrites a config without a version, or with one below 6.0, as a pre-6 flat config. */
function isPre6(raw: Record<string, unknown>): boolean {
  const meta = isObject(raw.metadata) ? raw.metadata : {};
  const version = raw.sae_lens_version ?? meta.sae_lens_version;
  if (typeof version !== 'string') return true;
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  return !(major >= 6);
}

function normalizationOf(raw: Record<string, unknown>, file: string, factor: number | undefined): SaeNormalization {
  let value = raw.normalize_activations ?? 'none';
  // SAELens < 4 wrote a boolean: true meant the expected-average scaling.
  if (typeof value === 'boolean') value = value ? 'expected_average_only_in' : 'none';
  if (typeof value !== 'string' || !(SAE_NORMALIZATIONS as readonly string[]).includes(value)) {
    throw new ModelFileError(
      `normalize_activations ${JSON.stringify(raw.normalize_activations)} is not supported (supported: ${SAE_NORMALIZATIONS.join(', ')})`,
      file,
      FIX_CFG,
    );
  }
  if (value !== 'expected_average_only_in') return { kind: value as 'none' | 'constant_norm_rescale' | 'layer_norm' };
  if (factor === undefined) {
    throw new ModelFileError(
      'normalize_activations "expected_average_only_in" needs the activation scaling factor, which SAELens keeps outside cfg.json and this folder does not have',
      file,
      'put activation_scaler.json ({"scaling_factor": s}, as the SAELens trainer writes it) beside cfg.json, or pass the release\'s norm_scaling_factor from SAELens\'s pretrained_saes.yaml',
    );
  }
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new ModelFileError(`the activation scaling factor must be a positive number, got ${factor}`, file, 'give the factor √d_in / (mean activation norm) the SAE was trained with');
  }
  return { kind: 'expected_average_only_in', scalingFactor: factor };
}

function positiveInt(raw: Record<string, unknown>, key: string, file: string): number {
  const v = raw[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    const got = v === undefined ? 'it is missing' : `got ${JSON.stringify(v)}`;
    throw new ModelFileError(`field "${key}" must be a positive integer; ${got}`, file, FIX_CFG);
  }
  return v;
}

function optionalBool(raw: Record<string, unknown>, key: string, fallback: boolean, file: string): boolean {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ModelFileError(`field "${key}" must be true or false, got ${JSON.stringify(v)}`, file, FIX_CFG);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
