// One validated configuration for dreams, shared by the CLI, the server, the workbench and the stored record. Every
// setting is declared once (settings/common.ts for the ones every or several methods read, a method's own file for
// its own) and this module assembles them: the schema, the defaults, the checks and the field list that the CLI's
// flags, the API's JSON schema and the workbench's form are generated from.
import { z } from 'zod';
import * as registry from './methods/registry.js';
import type { MethodDefinition } from './methods/define.js';
import { COMMON_SETTINGS, SHARED_SETTINGS, type SharedSettingName } from './settings/common.js';
import { choice, kebab, refusal, settingMeta, type ModelLimit } from './settings/kinds.js';
import type { SettingField, TargetSpec } from './settings/types.js';

type Registry = typeof registry;
export type Method = keyof Registry & string;

export type { DecoderName, Reduce, SettingField, TargetSpec, Transform } from './settings/types.js';

/** The methods, in the order lists show them; each one's definition and its own settings. */
export const METHOD_DEFINITIONS: readonly { name: Method; definition: MethodDefinition; settings: Record<string, z.ZodType> }[] = Object.entries(registry)
  .map(([name, m]) => ({ name: name as Method, definition: m.default as unknown as MethodDefinition, settings: m.settings as Record<string, z.ZodType> }))
  .sort((a, b) => a.definition.order - b.definition.order);

export const METHODS: readonly Method[] = METHOD_DEFINITIONS.map((m) => m.name);

export function methodDefinition(name: Method): MethodDefinition {
  const m = METHOD_DEFINITIONS.find((d) => d.name === name);
  if (!m) throw new DreamConfigError(`--method must be one of ${METHODS.join(', ')}; got "${name}"`);
  return m.definition;
}

const METHOD_SETTING = choice({
  choices: METHODS as unknown as [Method, ...Method[]],
  default: 'fluent' as Method,
  arg: `<${METHODS.join('|')}>`,
  description: 'how the text is parameterised and searched',
});

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type OwnShape = UnionToIntersection<{ [K in Method]: Registry[K]['settings'] }[Method]>;
type SettingsShape = { method: typeof METHOD_SETTING } & typeof COMMON_SETTINGS & typeof SHARED_SETTINGS & OwnShape;

function settingsShape(): SettingsShape {
  const shape: Record<string, z.ZodType> = { method: METHOD_SETTING, ...COMMON_SETTINGS, ...SHARED_SETTINGS };
  const owner = new Map<string, string>();
  for (const m of METHOD_DEFINITIONS) {
    for (const [key, schema] of Object.entries(m.settings)) {
      // A name means one thing: a setting two methods read is declared once, in settings/common.ts.
      if (key in shape) throw new Error(`dream setting "${key}" of method ${m.name} is declared ${owner.has(key) ? `by method ${owner.get(key)} too` : 'in settings/common.ts too'}: declare it once (in settings/common.ts if several methods read it)`);
      settingMeta(schema);
      shape[key] = schema;
      owner.set(key, m.name);
    }
  }
  return shape as SettingsShape;
}

export const SETTINGS_SHAPE = settingsShape();
const SETTINGS_SCHEMA = z.object(SETTINGS_SHAPE).strict();

export type DreamSettingValues = z.output<typeof SETTINGS_SCHEMA>;
export type DreamConfig = { target: TargetSpec } & DreamSettingValues;
/** What a caller asks for: a target and any settings (the method by name, checked with the rest by dreamConfig). */
export type DreamRequest = { target: TargetSpec; method?: string } & Partial<Omit<DreamConfig, 'target' | 'method'>>;

/** Every setting's default (the target aside). */
export const DEFAULT_DREAM: DreamSettingValues = SETTINGS_SCHEMA.parse({});

/** Every setting, in declaration order: common, shared, then each method's own. */
export const SETTING_FIELDS: readonly SettingField[] = Object.entries(SETTINGS_SHAPE).map(([key, schema]) => {
  const meta = settingMeta(schema as z.ZodType);
  const readers = METHOD_DEFINITIONS.filter((m) => key in m.settings || m.definition.uses.includes(key as SharedSettingName)).map((m) => m.name);
  const group = key === 'method' || key in COMMON_SETTINGS ? 'common' : key in SHARED_SETTINGS ? 'shared' : 'method';
  const def = (DEFAULT_DREAM as Record<string, unknown>)[key];
  return { ...meta, key, flag: kebab(key), ...(def === undefined ? {} : { default: def }), ...(group === 'common' ? {} : { methods: readers }), group };
});

/** The JSON schema of `dreams.start`'s settings (the target's is its own, described in the API docs). */
export function dreamSettingsJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(SETTINGS_SCHEMA, { io: 'input' }) as Record<string, unknown>;
}

export class DreamConfigError extends Error {
  override name = 'DreamConfigError';
}

/** How callers name a setting in messages: the CLI by its flag, the API by its field. */
export type SettingNamer = (key: string) => string;
export const flagName: SettingNamer = (key) => '--' + kebab(key);

/**
 * Fill defaults and check every setting's type and range, then the method's own rules; messages name the setting
 * as `name` does (the CLI's flags by default). Unknown settings fail.
 */
export function dreamConfig(partial: DreamRequest, name: SettingNamer = flagName): DreamConfig {
  const { target, ...rest } = partial;
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== null));
  const parsed = SETTINGS_SCHEMA.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new DreamConfigError(`${name(issue.keys[0]!)} is not a dream setting (allowed: ${Object.keys(SETTINGS_SHAPE).map(name).join(', ')})`);
    }
    const key = String(issue.path[0]);
    throw new DreamConfigError(refusal(name(key), settingMeta(SETTINGS_SHAPE[key as keyof SettingsShape] as z.ZodType), (given as Record<string, unknown>)[key]));
  }
  const cfg = { target, ...parsed.data } as DreamConfig;
  const rule = methodDefinition(cfg.method).check?.(cfg as never, name);
  if (rule) throw new DreamConfigError(rule);
  return cfg;
}

/** The model-dependent ranges (context, vocabulary, layers), checked once a model is loaded. */
export function checkAgainstModel(cfg: DreamConfig, model: { nPositions: number; vocabSize: number; nLayer: number }, name: SettingNamer = flagName): void {
  const limits: Record<ModelLimit, { max: number; why: string }> = {
    context: { max: model.nPositions - 1, why: `the context is ${model.nPositions}, one goes to the <|endoftext|> prefix` },
    vocab: { max: model.vocabSize, why: 'the vocabulary size' },
    layers: { max: model.nLayer - 1, why: `this model has layers 0-${model.nLayer - 1}` },
  };
  for (const f of SETTING_FIELDS) {
    if (!f.modelLimit) continue;
    const v = (cfg as Record<string, unknown>)[f.key] as number;
    const { max, why } = limits[f.modelLimit];
    if (v > max) throw new DreamConfigError(`${name(f.key)} ${v} is out of range: use ${f.min}-${max} (${why})`);
  }
}
