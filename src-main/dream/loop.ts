// The one dreaming loop: step a method, hard-evaluate at a cadence, yield step records, stop on an AbortSignal.
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { DreamConfig } from './config.js';
import { hardEvaluate } from './hard.js';
import type { DreamMethod } from './method.js';
import type { Target } from './objectives.js';
import type { Dream, DreamResult, StepRecord } from './records.js';

export type { Dream, DreamResult, StepRecord } from './records.js';

export interface DreamContext {
  model: GPT2;
  tokenizer: TextTokenizer;
  /** The model's folder: where `latent` finds its sentence autoencoders (autoencoders/k<k>). */
  modelDir?: string;
}

async function evaluate(ctx: DreamContext, target: Target, method: DreamMethod, cfg: DreamConfig): Promise<Dream[]> {
  const seqs = await method.current();
  const labels = method.labels?.() ?? seqs.map((_, i) => `#${i}`);
  return (await hardEvaluate(ctx.model, ctx.tokenizer, target, seqs, cfg.reduce)).map((e, i) => ({ ...e, label: labels[i] }));
}

const better = (a: Dream, b: Dream | null | undefined) => !b || (Number.isFinite(a.value) && !(a.value <= b.value));

/** Run a method; yields a record every `cfg.every` steps and at the end; returns the summary. */
export async function* dreamLoop(ctx: DreamContext, target: Target, method: DreamMethod, cfg: DreamConfig, signal?: AbortSignal): AsyncGenerator<StepRecord, DreamResult> {
  const t0 = Date.now();
  const initial = await evaluate(ctx, target, method, cfg);
  let best: Dream | null = null;
  const bestPerLabel = new Map<string, Dream>();
  const rank = (d: Dream, i: number) => (method.rank ? method.rank(d, i) : d.value);
  const perLabelRank = new Map<string, number>();
  const keep = (dreams: Dream[]) => {
    dreams.forEach((d, i) => {
      if (better(d, best)) best = d;
      const r = rank(d, i);
      if (Number.isFinite(r) && !(r <= (perLabelRank.get(d.label) ?? -Infinity))) {
        perLabelRank.set(d.label, r);
        bestPerLabel.set(d.label, d);
      }
    });
  };
  const record = async (step: number, soft: number): Promise<StepRecord> => {
    const dreams = await evaluate(ctx, target, method, cfg);
    keep(dreams);
    let bi = 0;
    dreams.forEach((d, i) => {
      if (d.value > dreams[bi].value || !Number.isFinite(dreams[bi].value)) bi = i;
    });
    return { step, soft, dreams, best: bi, forwardEquivalents: fe, elapsedMs: Date.now() - t0 };
  };
  keep(initial);
  let step = 0;
  let fe = 0;
  let soft = Number.NaN;
  let lastRecorded = 0;
  let stopped: DreamResult['stopped'] = 'completed';
  try {
    while (step < cfg.steps) {
      if (signal?.aborted) {
        stopped = 'aborted';
        break;
      }
      step += 1;
      const r = await method.step(step);
      fe = r.forwardEquivalents;
      soft = r.soft;
      if (step % cfg.every === 0 || step === cfg.steps) {
        lastRecorded = step;
        yield await record(step, soft);
      }
      // Let the event loop breathe (abort signals, IPC, SSE) between steps.
      await new Promise((res) => setImmediate(res));
    }
    // A stop between records still hard-evaluates where the run got to: no progress is lost.
    if (stopped === 'aborted' && step > lastRecorded) yield await record(step, soft);
  } finally {
    method.dispose();
  }
  return {
    config: cfg,
    method: method.name,
    target: target.description,
    stopped,
    steps: step,
    best,
    bestPerLabel: [...bestPerLabel.values()],
    initial,
    forwardEquivalents: fe,
    elapsedMs: Date.now() - t0,
  };
}
