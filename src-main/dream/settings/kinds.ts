// A dream setting is declared once, as a zod schema carrying its own description: the kind of value, its range,
// its default and its help. Everything else is generated from that declaration: the CLI's flags and parsing
// (cli/dreamOptions.ts), the checks at the API boundary and in the engine (dream/config.ts), the workbench's form
// (the `dreams.defaults` channel's field list) and the API's JSON schema. Dependency-free apart from zod.
import { z } from 'zod';

export type SettingKind = 'integer' | 'number' | 'choice' | 'boolean' | 'text' | 'numbers';

/** A range that only the loaded model knows: checked once it is loaded (dream/config.ts `checkAgainstModel`). */
export type ModelLimit = 'context' | 'vocab' | 'layers';

export interface SettingMeta {
  kind: SettingKind;
  /** One line for `--help`, the form's tooltip and the JSON schema's description. */
  description: string;
  /** The CLI's placeholder, e.g. `<λ,...>`. */
  arg?: string;
  /** The form's label (default: the flag name with spaces). */
  label?: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** `text`: what to do instead of giving an empty string. */
  nonEmpty?: string;
  /** `numbers`: how many. */
  minItems?: number;
  maxItems?: number;
  modelLimit?: ModelLimit;
  /** A CLI switch that sets this setting to one value (`--sigmoid` for transform = sigmoid). */
  cliSwitch?: { flag: string; value: string; description: string };
}

type Common = { description: string; arg?: string; label?: string };

/** The declaration a schema carries: what was given, but the default (zod's `.default` holds that). */
function declared(kind: SettingKind, o: object): Record<string, unknown> {
  const { default: _default, ...rest } = o as { default?: unknown };
  return { kind, ...rest } satisfies Partial<SettingMeta>;
}

export function integer(o: Common & { min: number; max: number; default: number; modelLimit?: ModelLimit }) {
  return z.number().int().min(o.min).max(o.max).default(o.default).meta(declared('integer', o));
}

export function number(o: Common & { min: number; max?: number; default: number }) {
  const base = z.number().min(o.min);
  return (o.max === undefined ? base : base.max(o.max)).default(o.default).meta(declared('number', o));
}

export function choice<const C extends readonly [string, ...string[]]>(o: Common & { choices: C; default: C[number]; cliSwitch?: SettingMeta['cliSwitch'] }) {
  return z.enum(o.choices).default(o.default as never).meta(declared('choice', o));
}

export function boolean(o: Common & { default: boolean }) {
  return z.boolean().default(o.default).meta(declared('boolean', o));
}

/** Optional text (no default): absent, or more than white space. */
export function text(o: Common & { maxLength: number; nonEmpty: string }) {
  const { maxLength, ...rest } = o;
  return z.string().max(maxLength).refine((v) => v.trim() !== '').optional().meta(declared('text', { ...rest, max: maxLength }));
}

export function numbers(o: Common & { min: number; minItems: number; maxItems: number; default: number[] }) {
  return z.array(z.number().min(o.min)).min(o.minItems).max(o.maxItems).default(o.default).meta(declared('numbers', o));
}

/** A setting's declaration, as written beside its schema. */
export function settingMeta(schema: z.ZodType): SettingMeta {
  const m = z.globalRegistry.get(schema) as SettingMeta | undefined;
  if (!m?.kind) throw new Error('a dream setting must be declared with the builders of dream/settings/kinds.ts');
  return m;
}

/** `seqLen` → `seq-len`: the CLI flag and the form's test id. */
export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** What a setting accepts, for error messages: "an integer in 1-1023". */
export function expected(m: SettingMeta): string {
  switch (m.kind) {
    case 'integer':
      return `an integer in ${m.min}-${m.max}`;
    case 'number':
      return m.max === undefined ? `a number ≥ ${m.min}` : `a number in [${m.min}, ${m.max}]`;
    case 'choice':
      return `one of ${m.choices!.join(', ')};`;
    case 'boolean':
      return 'true or false';
    case 'text':
      return `text of 1-${m.max} characters`;
    case 'numbers':
      return `a list of ${m.minItems}-${m.maxItems} numbers ≥ ${m.min}`;
  }
}

/** The message for a value a setting refuses, naming the setting as the caller does (`--seq-len`, `settings.seqLen`). */
export function refusal(name: string, m: SettingMeta, value: unknown): string {
  if (m.kind === 'text' && typeof value === 'string' && value.trim() === '') return `${name} is empty: ${m.nonEmpty}`;
  const got = m.kind === 'choice' || typeof value !== 'string' ? JSON.stringify(value) : JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  return `${name} must be ${expected(m)}${m.kind === 'choice' ? '' : ','} got ${got}`;
}
