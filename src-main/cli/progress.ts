// Helpers for long-running commands (dream, train-lm, eval-lm): checked number/choice options, durations, and
// progress lines on stderr (stdout stays clean for --json).
import { UsageError, type CommandIO } from './command.js';

/** A real-valued option, or undefined when absent; `min`/`max` bound it (inclusive) with a message naming the flag. */
export function parseNumber(value: string | undefined, flag: string, bounds: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  checkBounds(n, flag, bounds);
  return n;
}

function checkBounds(n: number, flag: string, { min, max }: { min?: number; max?: number }): void {
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    const range = min !== undefined && max !== undefined ? `use ${min}-${max}` : min !== undefined ? `use a value ≥ ${min}` : `use a value ≤ ${max}`;
    throw new UsageError(`${flag} ${n} is out of range: ${range}`);
  }
}

/** A comma-separated list of numbers (e.g. `--lambdas 0,0.3,1`), each checked like parseNumber. */
export function parseNumberList(value: string | undefined, flag: string, bounds: { min?: number; max?: number } = {}): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => s.trim());
  if (!parts.length || parts.some((p) => p === '')) throw new UsageError(`${flag} must be comma-separated numbers, e.g. 0,0.3,1; got "${value}"`);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n)) throw new UsageError(`${flag}: "${p}" is not a number (in "${value}")`);
    checkBounds(n, flag, bounds);
    return n;
  });
}

/** One of a fixed set of words. */
export function parseChoice<const C extends string>(value: string | undefined, flag: string, choices: readonly C[]): C | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${choices.join(', ')}; got "${value}"`);
  return value as C;
}

/** `0.8 s`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A number for a table: fixed decimals, `n/a` for NaN or ±Infinity. */
export function fmt(n: number, digits = 4): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** A text for one line: JSON-quoted (whitespace visible) and cut to `max` characters. */
export function oneLine(text: string, max = 100): string {
  const q = JSON.stringify(text);
  return q.length > max ? `${q.slice(0, max - 2)}…"` : q;
}

/**
 * A one-shot SIGINT handler for the duration of a command: the first Ctrl-C aborts the returned signal (the
 * command stops gracefully); the handler is then gone, so a second Ctrl-C ends the process as usual.
 * Call `release()` when the command is done.
 */
export function interruptible(io: CommandIO, what: string): { signal: AbortSignal; release(): void } {
  const ac = new AbortController();
  const onSigint = () => {
    io.stderr(`\ninterrupted: stopping ${what} after the current step (Ctrl-C again to quit at once)\n`);
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  return { signal: ac.signal, release: () => void process.off('SIGINT', onSigint) };
}
