// Timing and machine description shared by the benches. Progress goes to stderr; stdout carries one JSON object.
import os from 'node:os';
import { firstLine as errorLine } from '../../src-main/errorText.js';

export interface Timing {
  median: number;
  min: number;
  max: number;
  /** Every timed run in ms, in order. */
  runs: number[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Rounds to 0.1 ms so the JSON stays readable. */
const r1 = (x: number) => Math.round(x * 10) / 10;

export function summarize(runs: readonly number[]): Timing {
  return { median: r1(median(runs)), min: r1(Math.min(...runs)), max: r1(Math.max(...runs)), runs: runs.map(r1) };
}

/** Wall-clock milliseconds of a synchronous call. */
export function timeMs<T>(f: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

export interface MachineInfo {
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  memGiB: number;
  /** 1, 5 and 15 minute load averages: above ~0.5 before a run means another process competes for the cores. */
  loadavg: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** The bench's single stdout line. */
export function emitJson(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj, null, 2) + '\n');
}

/** An error's first line, longer than in status lists (bench JSON keeps more of it). */
export const firstLine = (e: unknown): string => errorLine(e, 300);
