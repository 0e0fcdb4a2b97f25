// The one dreaming loop: step a method, hard-evaluate at a cadence, yield step records, stop on an AbortSignal.
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { assessReadability } from '../readability/assess.js';
import type { ReadabilityJudge } from '../readability/judge.js';
import type { CandidateEvaluator } from './candidateBatch.js';
import type { DreamConfig } from './config.js';
import { hardEvaluate } from './hard.js';
import type { DreamMethod } from './method.js';
import type { SeedSource } from './seeded.js';
import type { Target } from './objectives.js';
import { beatsSeed, isEdited, seedOf, type Dream, type DreamResult, type StepRecord } from './records.js';

export type { Dream, DreamResult, StepRecord } from './records.js';

export interface DreamContext {
  model: GPT2;
  tokenizer: TextTokenizer;
  /** The model's folder: where `latent` finds its sentence autoencoders (autoencoders/k<k>). */
  modelDir?: string;
  /** The readability judge: every dream gets its readability, and the result its most activating readable dream. */
  judge?: ReadabilityJudge;
  /** Where `seeded` gets its corpus windows (dream/seeded.ts). */
  seedSource?: SeedSource;
  /** Environment for finding hub SAEs (HF_HOME, HF_ENDPOINT, HF_HUB_OFFLINE, HF_TOKEN); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How discrete searches measure their candidates: alone by default; dreamTogether batches a layer's (together.ts). */
  candidateEvaluator?: CandidateEvaluator;
}

async function evaluate(ctx: DreamContext, target: Target, method: DreamMethod, cfg: DreamConfig): Promise<Dream[]> {
  const seqs = await method.current();
  const labels = method.labels?.() ?? seqs.map((_, i) => `#${i}`);
  const origins = (await method.origins?.()) ?? [];
  return (await hardEvaluate(ctx.model, ctx.tokenizer, target, seqs, cfg.reduce)).map((e, i) => {
    const d: Dream = { ...e, label: labels[i] };
    if (ctx.judge) d.readability = assessReadability(ctx.judge, e.text, origins[i] ? { seedText: origins[i].seedText, seedNext: origins[i].seedNext } : {});
    if (origins[i]) d.origin = origins[i];
    return d;
  });
}

/** Dreams no other dream beats on both hard value and syntax percentile (one per text), by descending value. */
export function paretoSet(dreams: Iterable<Dream>): Dream[] {
  const byText = new Map<string, Dream>();
  for (const d of dreams) if (d.readability && Number.isFinite(d.value) && !byText.has(d.text)) byText.set(d.text, d);
  const all = [...byText.values()].sort((a, b) => b.value - a.value || b.readability!.percentile - a.readability!.percentile);
  const front: Dream[] = [];
  let bestPct = -Infinity;
  for (const d of all) {
    if (d.readability!.percentile > bestPct) {
      front.push(d);
      bestPct = d.readability!.percentile;
    }
  }
  return front;
}

/**
 * The Pareto set of each seed and edit count, together: what the dreams shown to a person are chosen from
 * (yardstick.ts readableChoices takes the fewest edits first, one dream per seed). A one-edit dream that a two-edit
 * dream beats on value and percentile is off the Pareto set, yet it is the one to show; so is another seed's dream
 * that the first seed's beat.
 */
export function paretoByEdits(dreams: Iterable<Dream>): Dream[] {
  const groups = new Map<string, Dream[]>();
  for (const d of dreams) {
    const k = `${d.origin?.edits ?? 0} ${seedOf(d) ?? ''}`;
    const group = groups.get(k);
    if (group) group.push(d);
    else groups.set(k, [d]);
  }
  return [...groups.values()].flatMap((g) => paretoSet(g)).sort((a, b) => b.value - a.value || b.readability!.percentile - a.readability!.percentile);
}

const better = (a: Dream, b: Dream | null | undefined) => !b || (Number.isFinite(a.value) && !(a.value <= b.value));

/** Run a method; yields a record every `cfg.every` steps and at the end; returns the summary. */
export async function* dreamLoop(ctx: DreamContext, target: Target, method: DreamMethod, cfg: DreamConfig, signal?: AbortSignal): AsyncGenerator<StepRecord, DreamResult> {
  const t0 = Date.now();
  const initial = await evaluate(ctx, target, method, cfg);
  let best: Dream | null = null;
  let bestReadable: Dream | null = null;
  let front: Dream[] = [];
  let frontByEdits: Dream[] = [];
  // Only a method that starts from seeds gives dreams an edit count to pick by.
  const seeded = method.origins !== undefined;
  const bestPerLabel = new Map<string, Dream>();
  const rank = (d: Dream, i: number) => (method.rank ? method.rank(d, i) : d.value);
  const perLabelRank = new Map<string, number>();
  const keep = (dreams: Dream[]) => {
    // A seed not yet edited is corpus text, not a dream: it is never the most activating readable dream nor on the
    // readability front (it stays in `best` and `initial`, where a search that never beat its seed shows it).
    if (ctx.judge) {
      const edited = dreams.filter(isEdited);
      front = paretoSet([...front, ...edited]);
      // Only what can be shown: readable, and above its seed (yardstick.ts countsAsDream), so that a dream that
      // cannot count never pushes one that can off its front.
      if (seeded) frontByEdits = paretoByEdits([...frontByEdits, ...edited.filter((d) => d.readability?.readable && beatsSeed(d))]);
    }
    dreams.forEach((d, i) => {
      if (better(d, best)) best = d;
      if (d.readability?.readable && isEdited(d) && better(d, bestReadable)) bestReadable = d;
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
    ...(ctx.judge ? { bestReadable, pareto: front, ...(seeded ? { paretoByEdits: frontByEdits } : {}) } : {}),
    forwardEquivalents: fe,
    elapsedMs: Date.now() - t0,
  };
}
