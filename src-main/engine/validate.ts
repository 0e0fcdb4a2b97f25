// Requests arrive from a renderer or over HTTP: typed by the contract, checked by nobody until here. Shapes
// and types are checked before anything reaches the engine; ranges that depend on the model (layer, neuron,
// seq-len) are checked by the engine code that knows the model, with messages that name the field.
import type { ExportFormat } from '../api/contract.js';
import { dreamConfig, DreamConfigError, type DreamConfig, type TargetSpec } from '../dream/config.js';
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
  if (t.kind === 'head') return { kind: 'head', layer: int(t.layer, 'target.layer'), head: int(t.head, 'target.head') };
  if (t.kind === 'sum') {
    const latents = t.latents === undefined ? [] : t.latents;
    const heads = t.heads === undefined ? [] : t.heads;
    if (!Array.isArray(t.terms) || !Array.isArray(latents) || !Array.isArray(heads) || t.terms.length + latents.length + heads.length === 0 || t.terms.length > 64 || latents.length > 16 || heads.length > 64) {
      throw new InvalidRequestError('target.terms must be a list of 0-64 {layer, neuron, weight}, target.heads of 0-64 {layer, head, weight} and target.latents of 0-16 {sae, latent, weight}, together at least one');
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
      ...(heads.length
        ? {
            heads: heads.map((x, i) => {
              const term = object(x, `target.heads[${i}]`);
              return { layer: int(term.layer, `target.heads[${i}].layer`), head: int(term.head, `target.heads[${i}].head`), weight: num(term.weight, `target.heads[${i}].weight`) };
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
  throw new InvalidRequestError(`target.kind must be neuron, head, sum, sae or direction, got ${JSON.stringify(t.kind)}`);
}

/**
 * `dreams.start`'s settings → a partial DreamConfig: the target checked here, every other setting by its own
 * declaration (dreamConfig), with messages that name the field (`settings.seqLen`). Unknown keys fail.
 */
export function dreamSettings(value: unknown): Partial<DreamConfig> & { target: TargetSpec } {
  const { target: t, ...rest } = object(value, 'settings');
  const given = { target: target(t), ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== null)) } as Partial<DreamConfig> & { target: TargetSpec };
  try {
    dreamConfig(given, (key) => `settings.${key}`);
  } catch (e) {
    if (e instanceof DreamConfigError) throw new InvalidRequestError(e.message);
    throw e;
  }
  return given;
}

export function exportFormat(value: unknown): ExportFormat {
  return choice(value, 'format', ['json', 'csv'] as const);
}

export function runIds(value: unknown, what = 'runIds'): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 1000) throw new InvalidRequestError(`${what} must be a list of 1-1000 run ids`);
  return value.map((v, i) => str(v, `${what}[${i}]`, 200));
}
