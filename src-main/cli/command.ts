// The shape every CLI command has. A command declares its options once (for parsing and for help) and gets
// typed values back; output goes through `io` so tests can capture it and the process is never exited here.

/** Where a command writes, and the environment it reads settings from (process.env in the real CLI). */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** stderr is a terminal: progress may redraw a line in place. */
  stderrIsTTY?: boolean;
}

/** One option, as node:util parseArgs takes it, plus what `--help` shows. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `<dir|hub id>`. */
  arg?: string;
  description: string;
}
export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S['type'] extends 'string'
  ? S['multiple'] extends true
    ? string[]
    : string
  : S['multiple'] extends true
    ? boolean[]
    : boolean;

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  model: {
    type: 'string',
    arg: '<dir|hub id>',
    description: 'model folder or Hugging Face id (default: TEXTDREAM_MODEL, else the embedded default model)',
  },
  backend: {
    type: 'string',
    arg: '<auto|tensorflow|webgpu|wasm|cpu>',
    description: 'TensorFlow.js backend (default: TEXTDREAM_BACKEND, else auto; `info --backends` lists them)',
  },
  json: { type: 'boolean', description: 'print one JSON document on stdout instead of text' },
  help: { type: 'boolean', short: 'h', description: 'show help for this command' },
} as const satisfies OptionSpecs;

/** Parsed values: every option may be absent (defaults are the command's business). */
export type Values<O extends OptionSpecs> = { [K in keyof O]?: ValueOf<O[K]> } & {
  [K in keyof typeof COMMON_OPTIONS]?: ValueOf<(typeof COMMON_OPTIONS)[K]>;
};

/** Option values as the parser hands them over, before a command's own types apply. */
export type RawValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command file writes: options declared once, values typed from them inside `run`. */
export interface CommandDef<O extends OptionSpecs> {
  /** What the user types: `textdream <name>`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Arguments after the name, for `Usage:`; e.g. `--text <text> --layer <L> [--top <k>]`. */
  usage: string;
  /** Command-specific options; COMMON_OPTIONS are added to every command. */
  options: O;
  /** Accept positional arguments (default: none, so a stray word is an error). */
  positionals?: boolean;
  /** Returns the exit code (0 on success). Throw user errors: they become `error: …` and exit 2. */
  run(values: Values<O>, positionals: string[], io: CommandIO): Promise<number>;
}

/** A command as the registry and dispatcher hold it. */
export interface Command extends Omit<CommandDef<OptionSpecs>, 'run'> {
  run(values: RawValues, positionals: string[], io: CommandIO): Promise<number>;
}

/** Keeps a command's option types precise inside `run`; parseArgs guarantees the values match the specs. */
export function defineCommand<const O extends OptionSpecs>(def: CommandDef<O>): Command {
  return def as unknown as Command;
}

/** A mistake in how the command was called (bad flag, missing value, out-of-range number). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Writes a JSON document the way every command does. */
export function printJSON(io: CommandIO, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2) + '\n');
}
