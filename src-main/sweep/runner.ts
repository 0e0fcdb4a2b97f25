// The in-process runner: the jobs in order, one at a time, each claimed in the store first (so done jobs, jobs
// another live process is running and jobs out of attempts are skipped), failures recorded with their message and
// retried up to `maxAttempts` in all (over every run), progress reported after every change. It knows nothing of how
// a job is done: `run` is the job function (a queue worker would call the same one).
import type { SweepStore } from '../store/types.js';
import { jobKey } from './jobs.js';
import { categoryOf, countCategories, keyString, type JobCategory, type SweepCounts } from './status.js';
import type { SweepJob } from './types.js';

export interface JobRun {
  written: boolean;
  score: number | null;
  elapsedMs: number;
}

export type RunJob = (job: SweepJob, opts: { signal?: AbortSignal; replace: boolean }) => Promise<JobRun>;

export type SweepEvent =
  /** Not run: finished already, running in another process, or out of attempts. */
  | { type: 'skip'; job: SweepJob; reason: 'done' | 'running' | 'exhausted' }
  | { type: 'start'; job: SweepJob; attempt: number }
  | { type: 'done'; job: SweepJob; run: JobRun }
  /** A failed attempt; `willRetry` when attempts are left. */
  | { type: 'failed'; job: SweepJob; attempt: number; error: string; willRetry: boolean }
  /** The signal fired (or a fatal error came) during this job: it is pending again and the sweep ends. */
  | { type: 'stopped'; job: SweepJob };

export type SweepProgress = SweepEvent & {
  counts: SweepCounts;
  /** Time left for the pending and running jobs at this run's pace (NaN until a job has finished here). */
  etaMs: number;
};

export interface RunSweepOptions {
  jobs: SweepJob[];
  store: Pick<SweepStore, 'claimSweepJob' | 'failSweepJob' | 'releaseSweepJob' | 'sweepJobStates'>;
  run: RunJob;
  /** Attempts per job over all runs (≥ 1). */
  maxAttempts: number;
  /** Redo finished jobs (their pages are replaced) and retry failed ones from a fresh count. */
  force?: boolean;
  signal?: AbortSignal;
  /**
   * Errors no job could get past (a rejected API key, an endpoint that is down): the job is left pending, not
   * failed, and the error ends the sweep (thrown) instead of failing every neuron in turn.
   */
  isFatal?: (e: unknown) => boolean;
  onProgress?: (p: SweepProgress) => void;
}

export interface SweepReport extends SweepCounts {
  /** Jobs finished by this run (pages written or found written by another process). */
  ran: number;
  /** The signal stopped the run before every job was visited. */
  stopped: boolean;
  elapsedMs: number;
}

const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

export async function runSweep(o: RunSweepOptions): Promise<SweepReport> {
  if (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${o.maxAttempts}`);
  const t0 = performance.now();
  // Every job's category, from the store's states at the start (one query per sweep), kept current as jobs move.
  const category = new Map<string, JobCategory>();
  const sweeps = new Map<string, { model: string; settingsHash: string }>();
  for (const j of o.jobs) sweeps.set(`${j.model}\0${j.settingsHash}`, j);
  for (const s of sweeps.values()) {
    for (const st of o.store.sweepJobStates(s.model, s.settingsHash)) category.set(keyString(st), categoryOf(st, o.maxAttempts));
  }
  for (const j of o.jobs) {
    const k = keyString(j);
    const c = category.get(k) ?? 'pending';
    // Under --force, finished and failed jobs are to be done again.
    category.set(k, o.force && c !== 'running' ? 'pending' : c);
  }
  const counts = () => countCategories(o.jobs.map((j) => category.get(keyString(j))!));
  const times: number[] = [];
  const eta = (c: SweepCounts) => (times.length ? ((c.pending + c.running) * times.reduce((a, b) => a + b, 0)) / times.length : Number.NaN);
  const emit = (e: SweepEvent) => {
    const c = counts();
    o.onProgress?.({ ...e, counts: c, etaMs: eta(c) });
  };

  let ran = 0;
  let stopped = false;
  jobs: for (const job of o.jobs) {
    const k = keyString(job);
    let first = true;
    for (;;) {
      if (o.signal?.aborted) {
        stopped = true;
        break jobs;
      }
      const claim = o.store.claimSweepJob(jobKey(job), job.settings, { maxAttempts: o.maxAttempts, force: o.force && first });
      first = false;
      if (!claim.claimed) {
        category.set(k, claim.reason === 'exhausted' ? 'failed' : claim.reason);
        emit({ type: 'skip', job, reason: claim.reason });
        break;
      }
      const attempt = claim.state.attempts;
      category.set(k, 'running');
      emit({ type: 'start', job, attempt });
      try {
        const run = await o.run(job, { signal: o.signal, replace: Boolean(o.force) });
        times.push(run.elapsedMs);
        ran++;
        category.set(k, 'done');
        emit({ type: 'done', job, run });
        break;
      } catch (e) {
        const fatal = !o.signal?.aborted && (o.isFatal?.(e) ?? false);
        if (o.signal?.aborted || fatal) {
          // Stopped (whatever the job threw on its way out) or stopped by the setup, not broken: pending again,
          // the attempt not counted.
          o.store.releaseSweepJob(jobKey(job));
          category.set(k, 'pending');
          emit({ type: 'stopped', job });
          if (fatal) throw e;
          stopped = true;
          break jobs;
        }
        const state = o.store.failSweepJob(jobKey(job), message(e));
        const willRetry = state.attempts < o.maxAttempts;
        category.set(k, willRetry ? 'pending' : 'failed');
        emit({ type: 'failed', job, attempt, error: state.error ?? message(e), willRetry });
        if (!willRetry) break;
      }
    }
  }
  return { ...counts(), ran, stopped, elapsedMs: performance.now() - t0 };
}
