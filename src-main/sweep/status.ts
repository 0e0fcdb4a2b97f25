// Where a sweep stands: each job's state in the store sorted into done / running / failed / pending, and the time
// the pending ones should take at the pace of the finished ones. Shared by the runner's progress and `--status`.
import { ownerAlive } from '../store/owner.js';
import type { SweepJobKey, SweepJobState } from './types.js';

export type JobCategory = 'done' | 'running' | 'failed' | 'pending';

export interface SweepCounts {
  total: number;
  done: number;
  running: number;
  /** Out of attempts (a rerun leaves them; --force or a higher --max-attempts retries them). */
  failed: number;
  pending: number;
}

export const keyString = (k: SweepJobKey): string => `${k.model}\0${k.settingsHash}\0${k.layer}\0${k.neuron}`;

/** A job's category from its stored state (null: never claimed). A 'running' job whose process is gone is pending. */
export function categoryOf(state: SweepJobState | null | undefined, maxAttempts: number): JobCategory {
  if (!state) return 'pending';
  if (state.status === 'done') return 'done';
  if (state.status === 'running') return ownerAlive(state.owner) ? 'running' : 'pending';
  if (state.status === 'failed' && state.attempts >= maxAttempts) return 'failed';
  return 'pending';
}

export function countCategories(categories: Iterable<JobCategory>): SweepCounts {
  const c: SweepCounts = { total: 0, done: 0, running: 0, failed: 0, pending: 0 };
  for (const k of categories) (c.total++, c[k]++);
  return c;
}

export interface SweepStatus extends SweepCounts {
  /** Mean compute time of the finished jobs (NaN when none has finished). */
  meanJobMs: number;
  /** Time for the pending and running jobs at that pace, one at a time (NaN when unknown). */
  etaMs: number;
  /** Failed jobs (out of attempts, or with attempts left) with their last error. */
  failures: { layer: number; neuron: number; attempts: number; error: string | null; exhausted: boolean }[];
}

/** The status of `jobs` (one sweep: the same model and settings) from the store's states of that sweep. */
export function sweepStatus(jobs: SweepJobKey[], states: SweepJobState[], maxAttempts: number): SweepStatus {
  const byKey = new Map(states.map((s) => [keyString(s), s]));
  const mine = jobs.map((j) => byKey.get(keyString(j)) ?? null);
  const counts = countCategories(mine.map((s) => categoryOf(s, maxAttempts)));
  const times = mine.filter((s): s is SweepJobState => s?.status === 'done' && s.elapsedMs !== null).map((s) => s.elapsedMs!);
  const meanJobMs = times.length ? times.reduce((a, b) => a + b, 0) / times.length : Number.NaN;
  const failures = mine
    .filter((s): s is SweepJobState => s?.status === 'failed')
    .map((s) => ({ layer: s.layer, neuron: s.neuron, attempts: s.attempts, error: s.error, exhausted: s.attempts >= maxAttempts }));
  return { ...counts, meanJobMs, etaMs: (counts.pending + counts.running) * meanJobMs, failures };
}
