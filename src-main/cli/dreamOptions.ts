// The dream settings' CLI flags, generated from their declarations (dream/config.ts SETTING_FIELDS): one flag per
// setting (`seqLen` → `--seq-len`), parsed with the CLI's own parsers so syntax and range errors name the flag.
import { SETTING_FIELDS, type DreamSettingValues, type SettingField } from '../dream/config.js';
import { intOption } from './args.js';
import { UsageError, type OptionSpec, type RawValues } from './command.js';
import { parseChoice, parseNumber, parseNumberList } from './progress.js';

function defaultText(f: SettingField): string {
  if (f.default === undefined || f.kind === 'boolean') return '';
  return ` (default ${Array.isArray(f.default) ? f.default.join(',') : String(f.default)})`;
}

/** `--help` lines say which methods read a setting that not every method reads. */
function helpOf(f: SettingField): string {
  return `${f.methods ? `${f.methods.join(', ')}: ` : ''}${f.description}${defaultText(f)}`;
}

/** Every dream setting as a CLI option (plus switches such as `--sigmoid`). */
export function dreamSettingOptions(): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const f of SETTING_FIELDS) {
    out[f.flag] = f.kind === 'boolean' ? { type: 'boolean', description: helpOf(f) } : { type: 'string', arg: f.arg ?? '<value>', description: helpOf(f) };
    if (f.cliSwitch) out[f.cliSwitch.flag] = { type: 'boolean', description: f.cliSwitch.description };
  }
  return out;
}

/** The settings the user gave (absent ones stay absent: defaults are dreamConfig's). */
export function parseDreamSettings(values: RawValues): Partial<DreamSettingValues> {
  const out: Record<string, unknown> = {};
  for (const f of SETTING_FIELDS) {
    const raw = values[f.flag];
    const flag = `--${f.flag}`;
    if (f.cliSwitch && values[f.cliSwitch.flag] === true) {
      if (raw !== undefined && raw !== f.cliSwitch.value) throw new UsageError(`give either ${flag} or --${f.cliSwitch.flag}, not both`);
      out[f.key] = f.cliSwitch.value;
    }
    if (raw === undefined || raw === false) continue;
    if (f.kind === 'boolean') {
      out[f.key] = true;
      continue;
    }
    const v = String(raw);
    if (f.kind === 'integer') out[f.key] = intOption(v, flag, f.min!, f.max!);
    else if (f.kind === 'number') out[f.key] = parseNumber(v, flag, { min: f.min, max: f.max });
    else if (f.kind === 'choice') out[f.key] = parseChoice(v, flag, f.choices!);
    else if (f.kind === 'numbers') out[f.key] = parseNumberList(v, flag, { min: f.min });
    else out[f.key] = v;
  }
  return out as Partial<DreamSettingValues>;
}
