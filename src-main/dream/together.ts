// Several dreams run side by side, their discrete searches' candidates measured in one batch per step
// (candidateBatch.ts LockstepEvaluator): for a layer's neurons, one forward pass gives every neuron's activation, so
// a batch of G neurons' candidates costs one run's fixed price instead of G. Each dream is still its own run of the
// one loop (its own records and result); methods without a discrete search simply never hand anything in.
import type { DreamRequest } from './config.js';
import { LockstepEvaluator } from './candidateBatch.js';
import type { DreamContext, DreamResult, StepRecord } from './loop.js';
import { dreamToEnd, runDream } from './run.js';

export interface TogetherOptions {
  signal?: AbortSignal;
  /** Every step record, with the index of the dream it belongs to. */
  onRecord?: (index: number, record: StepRecord) => void;
  /** Receives the evaluator (its stats count the batches measured). */
  evaluator?: (e: LockstepEvaluator) => void;
}

/**
 * Run `requests` together; their results in the same order. A dream that fails stops the others (its error is
 * thrown once all have ended); the signal stops them all, each result then saying 'aborted'.
 */
export async function dreamTogether(ctx: DreamContext, requests: DreamRequest[], opts: TogetherOptions = {}): Promise<DreamResult[]> {
  if (!requests.length) return [];
  const lockstep = new LockstepEvaluator(ctx.model, ctx.tokenizer, requests.length);
  opts.evaluator?.(lockstep);
  // One failure ends the group: the others would otherwise dream on for results nobody keeps.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  try {
    const settled = await Promise.allSettled(
      requests.map(async (request, i) => {
        const member = lockstep.member(i);
        try {
          return await dreamToEnd(runDream({ ...ctx, candidateEvaluator: member.evaluate }, request, stop.signal), (r) => opts.onRecord?.(i, r));
        } catch (e) {
          stop.abort();
          throw e;
        } finally {
          member.leave();
        }
      }),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<DreamResult>).value);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
