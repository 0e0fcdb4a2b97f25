// CLI entry: dispatch to a command, help, and the one rule for errors. Mistakes a user can fix print
// `error: <message>` and exit 2; anything else is a bug and prints its stack with exit 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BackendError } from '../backend.js';
import { ObjectiveError } from '../dream/objectives.js';
import { DreamConfigError } from '../dream/config.js';
import { CorpusFileError, CorpusPackageMissingError } from '../corpus/documents.js';
import { STORE_USER_ERRORS } from '../store/userErrors.js';
import { ModelFileError } from '../model/errors.js';
import { ModelInputError } from '../model/gpt2.js';
import { HookError } from '../model/hooks.js';
import { COMMON_OPTIONS, UsageError, type Command, type CommandIO, type OptionSpecs, type RawValues } from './command.js';
import * as registry from './commands/index.js';

export const COMMANDS: Command[] = Object.values(registry).sort((a, b) => a.name.localeCompare(b.name));

const USER_ERRORS = [UsageError, ModelFileError, ModelInputError, ObjectiveError, HookError, BackendError, DreamConfigError, CorpusPackageMissingError, CorpusFileError, ...STORE_USER_ERRORS];

export function isUserError(e: unknown): e is Error {
  return USER_ERRORS.some((cls) => e instanceof cls) || (e instanceof Error && isParseError(e));
}

export function processIO(): CommandIO {
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    env: process.env,
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
}

/** Runs the CLI on argv (without `node script`) and returns the exit code; never exits the process. */
export async function main(argv: string[], io: CommandIO = processIO()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(generalHelp());
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const target = first === 'help' && rest[0] !== undefined ? findCommand(rest[0]) : undefined;
    if (first === 'help' && rest[0] !== undefined && !target) return unknownCommand(rest[0], io);
    io.stdout(target ? commandHelp(target) : generalHelp());
    return 0;
  }
  const command = findCommand(first);
  if (!command) return unknownCommand(first, io);
  try {
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help) {
      io.stdout(commandHelp(command));
      return 0;
    }
    return await command.run(values, positionals, io);
  } catch (e) {
    if (isUserError(e)) {
      // Unknown or malformed flags point at the command's help; every other message carries its own fix.
      const hint = isParseError(e) ? ` (see \`textdream ${command.name} --help\`)` : '';
      io.stderr(`error: ${e.message.replace(/\s*\n\s*/g, ' ')}${hint}\n`);
      return 2;
    }
    io.stderr(`textdream ${command.name}: unexpected error (a bug; please report it)\n${stackOf(e)}\n`);
    return 1;
  }
}

/** node:util parseArgs throws TypeErrors coded ERR_PARSE_ARGS_* for unknown or malformed flags. */
function isParseError(e: unknown): boolean {
  return String((e as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
}

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function unknownCommand(name: string, io: CommandIO): number {
  const list = COMMANDS.map((c) => c.name).join(', ');
  io.stderr(`error: unknown command "${name}". Commands: ${list}. Run \`textdream --help\` for more.\n`);
  return 2;
}

function parseCommandArgs(command: Command, args: string[]) {
  const specs: OptionSpecs = { ...COMMON_OPTIONS, ...command.options };
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, s] of Object.entries(specs)) {
    options[name] = { type: s.type, ...(s.short ? { short: s.short } : {}), ...(s.multiple ? { multiple: true } : {}) };
  }
  const parsed = parseArgs({ args, options, strict: true, allowPositionals: command.positionals ?? false });
  return { values: parsed.values as RawValues, positionals: parsed.positionals };
}

function stackOf(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}

function optionLines(specs: OptionSpecs): string {
  const heads = Object.entries(specs).map(([name, s]) => [`${s.short ? `-${s.short}, ` : ''}--${name}${s.arg ? ` ${s.arg}` : ''}`, s.description]);
  const width = Math.max(...heads.map(([h]) => h.length));
  return heads.map(([h, d]) => `  ${h.padEnd(width)}  ${d}\n`).join('');
}

export function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return (
    'textdream: GPT-2 interpretability by dreaming\n\n' +
    'Usage: textdream <command> [options]\n\n' +
    'Commands:\n' +
    COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n`).join('') +
    '\nOptions for every command:\n' +
    optionLines(COMMON_OPTIONS) +
    '\nRun `textdream <command> --help` for a command\'s own options.\n'
  );
}

export function commandHelp(c: Command): string {
  const own = Object.keys(c.options).length ? `\nOptions:\n${optionLines(c.options)}` : '';
  return (
    `Usage: textdream ${c.name} ${c.usage}\n\n` +
    `${c.summary[0].toUpperCase()}${c.summary.slice(1)}.\n` +
    own +
    `\nOptions for every command:\n${optionLines(COMMON_OPTIONS)}`
  );
}
