// Requests arrive from a renderer or over HTTP: typed by the contract, checked by nobody until here. Shapes
// and types are checked before anything reaches the engine; ranges that depend on the model (layer, neuron,
// seq-len) are checked by the engine code that knows the model, with messages that name the field.
import type { DreamSettings, ExportFormat } from '../api/contract.js';
import { DECODERS, type DecoderName } from '../dream/decode.js';
import { METHODS, SEED_EDITS, type DreamConfig, type TargetSpec } from '../dream/config.js';
import { InvalidRequestError } from './errors.js';

type Obj = Record<string, unknown>;

export function object(value: unknown, what: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRequestError(`${what} must be an object`);
  return value as Obj;
}

export function int(value: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidRequestError(`${what} must be an integer in ${min}-${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function optionalInt(value: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return value === undefined || value === null ? undefined : int(value, what, min, max);
}

export function str(value: unknown, what: string, maxLength = 100_000): string {
  if (typeof value !== 'string') throw new InvalidRequestError(`${what} must be a string`);
  if (value.length > maxLength) throw new InvalidRequestError(`${what} is ${value.length} characters; the limit is ${maxLength}`);
  return value;
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidRequestError(`${what} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

function choice<C extends string>(value: unknown, what: string, choices: readonly C[]): C {
  if (!(choices as readonly unknown[]).includes(value)) throw new InvalidRequestError(`${what} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value as C;
}

export function target(value: unknown): TargetSpec {
  const t = object(value, 'settings.target');
  if (t.kind === 'neuron') return { kind: 'neuron', layer: int(t.layer, 'target.layer'), neuron: int(t.neuron, 'target.neuron') };
  if (t.kind === 'sum') {
    const latents = t.latents === undefined ? [] : t.latents;
    if (!Array.isArray(t.terms) || !Array.isArray(latents) || t.terms.length + latents.length === 0 || t.terms.length > 64 || latents.length > 16) {
      throw new InvalidRequestError('target.terms must be a list of 0-64 {layer, neuron, weight} and target.latents of 0-16 {sae, latent, weight}, together at least one');
    }
    return {
      kind: 'sum',
      terms: t.terms.map((x, i) => {
        const term = object(x, `target.terms[${i}]`);
        return { layer: int(term.layer, `target.terms[${i}].layer`), neuron: int(term.neuron, `target.terms[${i}].neuron`), weight: num(term.weight, `target.terms[${i}].weight`) };
      }),
      ...(latents.length
        ? {
            latents: latents.map((x, i) => {
              const term = object(x, `target.latents[${i}]`);
              return { sae: str(term.sae, `target.latents[${i}].sae`, 4096), latent: int(term.latent, `target.latents[${i}].latent`), weight: num(term.weight, `target.latents[${i}].weight`) };
            }),
          }
        : {}),
    };
  }
  if (t.kind === 'sae') return { kind: 'sae', sae: str(t.sae, 'target.sae', 4096), latent: int(t.latent, 'target.latent') };
  if (t.kind === 'direction') {
    if (!Array.isArray(t.direction)) throw new InvalidRequestError('target.direction must be a list of numbers');
    return {
      kind: 'direction',
      hook: str(t.hook, 'target.hook', 200),
      layer: int(t.layer, 'target.layer'),
      direction: t.direction.map((x, i) => num(x, `target.direction[${i}]`)),
      ...(t.label === undefined ? {} : { label: str(t.label, 'target.label', 200) }),
    };
  }
  throw new InvalidRequestError(`target.kind must be neuron, sum, sae or direction, got ${JSON.stringify(t.kind)}`);
}

const SETTING_CHECKS: { [K in Exclude<keyof DreamSettings, 'target'>]: (v: unknown, what: string) => DreamConfig[K] } = {
  method: (v, w) => choice(v, w, METHODS),
  reduce: (v, w) => choice(v, w, ['mean', 'max', 'last'] as const),
  transform: (v, w) => choice(v, w, ['none', 'sigmoid'] as const),
  seqLen: (v, w) => int(v, w, 1, 1023),
  batch: (v, w) => int(v, w, 1, 256),
  steps: (v, w) => int(v, w, 1, 1_000_000),
  lr: (v, w) => num(v, w),
  seed: (v, w) => int(v, w, 0, 2 ** 31 - 1),
  prompt: (v, w) => str(v, w, 10_000),
  decoder: (v, w) => choice<DecoderName>(v, w, DECODERS),
  fluency: (v, w) => num(v, w),
  manifold: (v, w) => num(v, w),
  k: (v, w) => int(v, w, 1, 4096),
  basis: (v, w) => choice(v, w, ['pca', 'random'] as const),
  init: (v, w) => choice(v, w, ['auto', 'random', 'samples'] as const),
  latentLayer: (v, w) => int(v, w, 0, 1024),
  straightThrough: (v, w) => {
    if (typeof v !== 'boolean') throw new InvalidRequestError(`${w} must be true or false`);
    return v;
  },
  latentDecode: (v, w) => choice(v, w, ['argmax', 'fused'] as const),
  autoencoder: (v, w) => str(v, w, 4096),
  lambdas: (v, w) => {
    if (!Array.isArray(v) || v.length === 0 || v.length > 64) throw new InvalidRequestError(`${w} must be a list of 1-64 numbers`);
    return v.map((x, i) => num(x, `${w}[${i}]`));
  },
  candidates: (v, w) => int(v, w, 1, 4096),
  topK: (v, w) => int(v, w, 1, 50257),
  topP: (v, w) => num(v, w),
  every: (v, w) => int(v, w, 1, 1_000_000),
  beamWidth: (v, w) => int(v, w, 1, 256),
  expand: (v, w) => int(v, w, 1, 512),
  repetitionPenalty: (v, w) => num(v, w),
  maxEdits: (v, w) => int(v, w, 0, 1024),
  seedEdits: (v, w) => choice(v, w, SEED_EDITS),
  judgeWeight: (v, w) => num(v, w),
};

/** `dreams.start`'s settings → a partial DreamConfig (defaults and remaining ranges: dreamConfig). Unknown keys fail. */
export function dreamSettings(value: unknown): Partial<DreamConfig> & { target: TargetSpec } {
  const s = object(value, 'settings');
  const out: Partial<DreamConfig> & { target: TargetSpec } = { target: target(s.target) };
  for (const [key, v] of Object.entries(s)) {
    if (key === 'target' || v === undefined || v === null) continue;
    if (!(key in SETTING_CHECKS)) throw new InvalidRequestError(`settings.${key} is not a dream setting (allowed: target, ${Object.keys(SETTING_CHECKS).join(', ')})`);
    const check = SETTING_CHECKS[key as keyof typeof SETTING_CHECKS] as (v: unknown, w: string) => unknown;
    (out as Record<string, unknown>)[key] = check(v, `settings.${key}`);
  }
  return out;
}

export function exportFormat(value: unknown): ExportFormat {
  return choice(value, 'format', ['json', 'csv'] as const);
}

export function runIds(value: unknown, what = 'runIds'): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 1000) throw new InvalidRequestError(`${what} must be a list of 1-1000 run ids`);
  return value.map((v, i) => str(v, `${what}[${i}]`, 200));
}
