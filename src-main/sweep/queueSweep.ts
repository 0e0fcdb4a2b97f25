// The coordinator of a sweep on a queue: enqueue the neurons that are not done, then follow the queue until every
// one of them is completed or failed for good, reporting progress. It runs no job itself (workers do: the sweep
// command's own, `textdream worker` processes); stopping it (Ctrl-C) leaves the jobs queued for the workers.
import { setTimeout as wait } from 'node:timers/promises';
import { Queue, type ConnectionOptions } from 'bullmq';
import { enqueueSweep, SWEEP_QUEUE, type EnqueueReport, type QueuedJobResult } from './queue.js';
import { keyString, type SweepCounts } from './status.js';
import type { SweepJob, SweepJobKey } from './types.js';

export interface QueuedSweepProgress {
  counts: SweepCounts;
  /** For the pending and running jobs at the pace of this run's finished ones, spread over the live workers. */
  etaMs: number;
  workers: number;
  finished: { job: SweepJob; result: QueuedJobResult }[];
  failed: { job: SweepJob; error: string }[];
}

export interface QueuedSweepOptions {
  connection: ConnectionOptions;
  jobs: SweepJob[];
  maxAttempts: number;
  force?: boolean;
  isDone: (k: SweepJobKey) => boolean;
  signal?: AbortSignal;
  /** Return once the jobs are on the queue (the workers and `sweep --status` follow them). */
  enqueueOnly?: boolean;
  /** Milliseconds between looks at the queue (default 500). */
  pollMs?: number;
  onEnqueued?: (r: EnqueueReport) => void;
  onProgress?: (p: QueuedSweepProgress) => void;
  /** The queue connection's errors (while Redis restarts ioredis reconnects; the next look waits for it). */
  onError: (e: Error) => void;
}

export interface QueuedSweepReport extends SweepCounts {
  ran: number;
  stopped: boolean;
  elapsedMs: number;
  enqueue: EnqueueReport;
}

/** Waits `ms`, or less when `signal` fires (the timer's abort listener goes with it: a long sweep polls thousands of times). */
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  wait(ms, undefined, { signal }).catch((e: unknown) => {
    if (!signal?.aborted) throw e;
  });

export async function runQueuedSweep(o: QueuedSweepOptions): Promise<QueuedSweepReport> {
  const t0 = performance.now();
  const queue = new Queue(SWEEP_QUEUE, { connection: o.connection });
  queue.on('error', (e) => o.onError(e));
  try {
    const enqueue = await enqueueSweep(queue, o.jobs, { maxAttempts: o.maxAttempts, force: o.force, isDone: o.isDone });
    o.onEnqueued?.(enqueue);
    if (o.enqueueOnly) {
      const pending = enqueue.ids.size;
      return { total: o.jobs.length, done: enqueue.done, running: 0, failed: 0, pending, ran: 0, stopped: false, elapsedMs: performance.now() - t0, enqueue };
    }
    const open = new Map<string, { job: SweepJob; id: string }>();
    for (const job of o.jobs) {
      const id = enqueue.ids.get(keyString(job));
      if (id) open.set(keyString(job), { job, id });
    }
    let done = enqueue.done;
    let failed = 0;
    let ran = 0;
    const times: number[] = [];
    for (;;) {
      const finished: QueuedSweepProgress['finished'] = [];
      const failures: QueuedSweepProgress['failed'] = [];
      let running = 0;
      for (const [k, { job, id }] of open) {
        const state = await queue.getJobState(id);
        if (state === 'completed') {
          const bull = await queue.getJob(id);
          const result = bull?.returnvalue as QueuedJobResult;
          open.delete(k);
          done++;
          ran++;
          if (result?.outcome === 'written') times.push(result.elapsedMs);
          finished.push({ job, result });
        } else if (state === 'failed') {
          const bull = await queue.getJob(id);
          open.delete(k);
          failed++;
          failures.push({ job, error: bull?.failedReason ?? 'failed' });
        } else if (state === 'active') running++;
        else if (state === 'unknown') {
          // Gone from the queue (flushed, or lost in a Redis crash before its append-only file had it): enqueue again.
          const again = await enqueueSweep(queue, [job], { maxAttempts: o.maxAttempts, force: o.force, isDone: o.isDone });
          if (!again.ids.size) {
            open.delete(k);
            done++;
          } else open.set(k, { job, id: again.ids.get(k)! });
        }
      }
      const workers = Math.max(1, await queue.getWorkersCount());
      const pending = open.size - running;
      const counts: SweepCounts = { total: o.jobs.length, done, running, failed, pending };
      const mean = times.length ? times.reduce((a, b) => a + b, 0) / times.length : Number.NaN;
      o.onProgress?.({ counts, etaMs: ((pending + running) * mean) / workers, workers, finished, failed: failures });
      if (!open.size) return { ...counts, ran, stopped: false, elapsedMs: performance.now() - t0, enqueue };
      if (o.signal?.aborted) return { ...counts, ran, stopped: true, elapsedMs: performance.now() - t0, enqueue };
      await sleep(o.pollMs ?? 500, o.signal);
    }
  } finally {
    await queue.close();
  }
}
