// Sweep jobs on BullMQ: one queue job per neuron job, its id derived from the job's key so a second enqueue of the
// same neuron is a no-op (BullMQ ignores an id it holds), and the worker side that runs a queue job through the same
// job function as the in-process runner. The store stays the record of what is done: a neuron whose page is stored
// is never enqueued, a delivery of a finished job writes nothing (completeSweepJob's 'duplicate'), and a job whose
// worker died (SIGKILL) is found stalled by BullMQ and delivered again.
import { DelayedError, Queue, UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { SweepStore } from '../store/types.js';
import { JobMismatchError, SweepAbortedError, SweepInputError } from './errors.js';
import { jobKey, jobLabel } from './jobs.js';
import type { JobRun, RunJob } from './runner.js';
import { keyString } from './status.js';
import type { SweepJob, SweepJobKey } from './types.js';

export const SWEEP_QUEUE = 'textdream-sweep';

/** What a queue job carries: the neuron job itself, plain data, and whether it redoes a finished one. */
export interface QueuedSweepJob {
  job: SweepJob;
  force: boolean;
}

/** What a finished queue job returns (kept in Redis with the job). */
export interface QueuedJobResult extends JobRun {
  /** 'done': the page was there already when the job was delivered (another delivery finished it). */
  outcome: 'written' | 'duplicate' | 'done';
}

/** `redis://[[user]:password@]host[:port][/db]` → the connection options BullMQ hands ioredis. */
export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SweepInputError(`--redis: "${url}" is not a URL; give auto, or redis://host:port (e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:') throw new SweepInputError(`--redis: ${url} is not a redis:// URL; give auto, or redis://host:port`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new SweepInputError(`--redis: the database in ${url} must be a number, e.g. redis://127.0.0.1:6379/0`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    // Workers block on Redis; BullMQ asks for unlimited retries per request so a Redis restart is waited out.
    maxRetriesPerRequest: null,
  };
}

/** The queue job id of a neuron job: its key (no ':' — BullMQ's own key separator). */
export function queueJobId(k: SweepJobKey): string {
  return `${k.model.slice(0, 24)}.${k.settingsHash}.L${k.layer}N${k.neuron}`;
}

export interface EnqueueOptions {
  /** Deliveries of one job before it is failed (BullMQ attempts; a stalled delivery counts as one too). */
  maxAttempts: number;
  force?: boolean;
  /** Neurons whose page is in the store (not enqueued unless `force`). */
  isDone: (k: SweepJobKey) => boolean;
}

export interface EnqueueReport {
  /** The queue job id of every neuron job that is not done (by keyString). */
  ids: Map<string, string>;
  added: number;
  /** Already waiting, delayed or running in the queue. */
  queued: number;
  /** Finished (their page is stored) and not forced. */
  done: number;
}

/**
 * Puts the sweep's jobs on the queue: skips finished neurons, leaves jobs the queue holds waiting or running, and
 * replaces a finished or failed queue job of an unfinished neuron (a rerun after failures, another store) by a fresh one.
 */
export async function enqueueSweep(queue: Queue, jobs: SweepJob[], o: EnqueueOptions): Promise<EnqueueReport> {
  const report: EnqueueReport = { ids: new Map(), added: 0, queued: 0, done: 0 };
  const stamp = Date.now();
  for (const job of jobs) {
    if (!o.force && o.isDone(job)) {
      report.done++;
      continue;
    }
    // Under --force every neuron gets a new queue job (a new id), so finished ones are done again.
    const id = o.force ? `${queueJobId(job)}.force-${stamp}` : queueJobId(job);
    report.ids.set(keyString(job), id);
    const existing = await queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') {
        report.queued++;
        continue;
      }
      await existing.remove();
    }
    const data: QueuedSweepJob = { job, force: Boolean(o.force) };
    await queue.add(jobLabel(job), data, {
      jobId: id,
      attempts: o.maxAttempts,
      backoff: { type: 'fixed', delay: 1000 },
      // Kept: the sweep's own progress reads finished and failed jobs back.
      removeOnComplete: false,
      removeOnFail: false,
    });
    report.added++;
  }
  return report;
}

const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

export type WorkerEvent =
  | { type: 'start'; job: SweepJob; delivery: number }
  | { type: 'done'; job: SweepJob; result: QueuedJobResult }
  | { type: 'failed'; job: SweepJob; delivery: number; error: string; willRetry: boolean }
  /** Stopped by this worker's shutdown: back on the queue, the delivery not counted. */
  | { type: 'returned'; job: SweepJob };

export interface SweepWorkerOptions {
  connection: ConnectionOptions;
  store: Pick<SweepStore, 'claimSweepJob' | 'failSweepJob' | 'releaseSweepJob'>;
  run: RunJob;
  /** How long a job's lock lasts without renewal: a dead worker's job is delivered again about this much later. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (BullMQ default 30 s). */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before it is failed. */
  maxStalledCount?: number;
  onEvent?: (e: WorkerEvent) => void;
  /** The worker's own errors (Redis unreachable while it restarts, a lost lock): reported, never fatal to the job. */
  onError: (e: Error) => void;
  /**
   * Errors that would fail every job alike (an LLM endpoint that refuses the key): the job goes back to the queue
   * uncounted, the worker takes no more, and `onFatal` hears the error once (the process then stops and says so).
   */
  isFatal?: (e: unknown) => boolean;
  onFatal?: (e: unknown) => void;
}

export interface SweepWorker {
  worker: Worker<QueuedSweepJob, QueuedJobResult>;
  /** Returns the running job to the queue (not counted as an attempt) and closes the connection. */
  stop(): Promise<void>;
}

/**
 * A BullMQ worker that runs each delivered neuron job through `run` (runNeuronJob), with the store's claim around
 * it: the claim refuses a neuron that is done (the delivery returns 'done' and writes nothing) or running in
 * another live process (retried later), and a failure is recorded in the store with its message, as the
 * in-process runner records it.
 */
export function startSweepWorker(o: SweepWorkerOptions): SweepWorker {
  let stopping = false;
  let fatal = false;
  const processor = async (bull: Job<QueuedSweepJob, QueuedJobResult>, token?: string, signal?: AbortSignal): Promise<QueuedJobResult> => {
    const { job, force } = bull.data;
    const key = jobKey(job);
    const delivery = bull.attemptsMade + 1;
    // BullMQ bounds the attempts; the store's claim only keeps its own count (for --status).
    const claim = o.store.claimSweepJob(key, job.settings, { maxAttempts: Number.MAX_SAFE_INTEGER, force: force && bull.attemptsStarted <= 1 });
    if (!claim.claimed) {
      if (claim.reason === 'done') return { outcome: 'done', written: false, score: null, elapsedMs: 0 };
      // 'running': another live process holds it (a delivery after a lost lock): look again in a while.
      if (claim.reason === 'running' && token) {
        await bull.moveToDelayed(Date.now() + 2000, token);
        throw new DelayedError();
      }
      throw new Error(`${jobLabel(job)} could not be claimed: ${claim.reason}`);
    }
    o.onEvent?.({ type: 'start', job, delivery });
    try {
      const run = await o.run(job, { signal, replace: force });
      const result: QueuedJobResult = { ...run, outcome: run.written ? 'written' : 'duplicate' };
      o.onEvent?.({ type: 'done', job, result });
      return result;
    } catch (e) {
      const setup = !stopping && (o.isFatal?.(e) ?? false);
      if (setup && !fatal) {
        fatal = true;
        // Take nothing more: every job would fail the same way.
        void worker.pause(true).catch((err: Error) => o.onError(err));
        o.onFatal?.(e);
      }
      if (setup || (stopping && (signal?.aborted || e instanceof SweepAbortedError))) {
        o.store.releaseSweepJob(key);
        if (token) {
          await bull.moveToWait(token);
          o.onEvent?.({ type: 'returned', job });
          throw new WaitingError();
        }
      }
      const state = o.store.failSweepJob(key, message(e));
      const attempts = bull.opts.attempts ?? 1;
      // A job for another model, or one this model cannot do, fails the same way every time.
      const final = e instanceof JobMismatchError;
      o.onEvent?.({ type: 'failed', job, delivery, error: state.error ?? message(e), willRetry: !final && delivery < attempts });
      if (final) throw new UnrecoverableError(message(e));
      throw e;
    }
  };
  const worker = new Worker<QueuedSweepJob, QueuedJobResult>(SWEEP_QUEUE, processor, {
    connection: o.connection,
    concurrency: 1,
    lockDuration: o.lockDurationMs ?? 30_000,
    stalledInterval: o.stalledIntervalMs ?? 30_000,
    maxStalledCount: o.maxStalledCount ?? 1,
  });
  // A Redis restart shows here as connection errors while ioredis reconnects; they are not the job's.
  worker.on('error', (e) => o.onError(e));
  return {
    worker,
    async stop() {
      stopping = true;
      worker.cancelAllJobs('worker stopping');
      await worker.close();
    },
  };
}
