// Scoring a simulation: Pearson correlation between simulated and true activations, pooled over every scored
// token (the protocol's score), within the top and random records alone, and per record. Correlation is
// undefined when either side is constant; it is then NaN, never a crash and never a silent 0.
import type { ActivationRecord } from './types.js';

/** Pearson correlation of two equal-length arrays; NaN for fewer than 2 points, a constant side or non-finite values. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`pearson: lengths differ (${x.length} vs ${y.length})`);
  const n = x.length;
  if (n < 2) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) return Number.NaN;
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  // Relative tolerance: a side whose spread is rounding noise counts as constant.
  if (sxx <= 1e-24 * Math.max(1, mx * mx) * n || syy <= 1e-24 * Math.max(1, my * my) * n) return Number.NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

export type RecordKind = 'top' | 'random';

/** One scored record: the simulator's prediction (or why there is none) and its own correlation. */
export interface ScoredRecord {
  kind: RecordKind;
  /** Index within its kind. */
  index: number;
  tokens: string[];
  activations: number[];
  /** 0-10 per token; null when the simulation failed. */
  simulated: number[] | null;
  /** Per-record correlation; NaN when undefined (e.g. a record where nothing fires). */
  correlation: number;
  /** Why the simulation failed (e.g. the reply had the wrong number of values). */
  error?: string;
}

export interface ScoreSummary {
  /** The protocol's score: correlation pooled over every token of every scored record. */
  all: number;
  /** Pooled over the top records only, and over the random records only. */
  top: number;
  random: number;
  records: ScoredRecord[];
  /** Records whose simulation failed (left out of every pooled score). */
  failed: number;
}

export interface Simulated {
  kind: RecordKind;
  index: number;
  record: ActivationRecord;
  simulated: number[] | null;
  error?: string;
}

function pooled(records: ScoredRecord[]): number {
  const sim: number[] = [];
  const act: number[] = [];
  for (const r of records) {
    if (!r.simulated) continue;
    sim.push(...r.simulated);
    act.push(...r.activations);
  }
  return pearson(sim, act);
}

/** Correlations from simulations: pooled (all, top-only, random-only) and per record. */
export function scoreSimulations(items: Simulated[]): ScoreSummary {
  const records: ScoredRecord[] = items.map((s) => {
    if (s.simulated && s.simulated.length !== s.record.activations.length) {
      throw new RangeError(`simulation of ${s.kind} record ${s.index} has ${s.simulated.length} values for ${s.record.activations.length} tokens`);
    }
    return {
      kind: s.kind,
      index: s.index,
      tokens: s.record.tokens,
      activations: s.record.activations,
      simulated: s.simulated,
      correlation: s.simulated ? pearson(s.simulated, s.record.activations) : Number.NaN,
      ...(s.error !== undefined ? { error: s.error } : {}),
    };
  });
  return {
    all: pooled(records),
    top: pooled(records.filter((r) => r.kind === 'top')),
    random: pooled(records.filter((r) => r.kind === 'random')),
    records,
    failed: records.filter((r) => !r.simulated).length,
  };
}
