// Turning option strings into checked values, with messages that name the flag and what is allowed.
// Syntax is checked before a model loads (fail fast); ranges that depend on the model are checked after.
import { UsageError } from './command.js';

/** An integer option's value, or undefined when the option is absent. */
export function parseInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag} must be an integer, got "${value}"`);
  return n;
}

export interface IntRange {
  min: number;
  max: number;
  /** The allowed values in words, e.g. `this model has layers 0-11`; default `use min-max`. */
  describe?: string;
}

/** `n` checked against the range; the message names the flag, the value and the range. */
export function inRange(n: number, flag: string, range: IntRange): number {
  if (n < range.min || n > range.max) {
    throw new UsageError(`${flag} ${n} is out of range: ${range.describe ?? `use ${range.min}-${range.max}`}`);
  }
  return n;
}

/** An integer option checked against [min, max], or undefined when the option is absent. */
export function intOption(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  const n = parseInteger(value, flag);
  return n === undefined ? undefined : inRange(n, flag, { min, max });
}

/** A required option. */
export function required<T>(value: T | undefined, flag: string, hint: string): T {
  if (value === undefined) throw new UsageError(`${flag} is required: ${hint}`);
  return value;
}
