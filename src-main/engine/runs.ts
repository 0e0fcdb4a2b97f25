// Dream runs hosted by the engine. A run belongs to the engine, not to a client: it keeps going when every
// client disconnects, its records fan out as events to whoever listens, it is written to the experiment
// store step by step, and a client that comes back asks `get` for everything so far.
import type { DreamStep, RunDetail, RunStatus, RunSummary } from '../api/contract.js';
import type { DreamConfig, TargetSpec } from '../dream/config.js';
import { persistDream, type PersistedDream } from '../store/persist.js';
import type { DreamResult, StepRecord } from '../dream/loop.js';
import { runDream } from '../dream/run.js';
import type { SeedSource } from '../dream/seeded.js';
import { shippedSeedSource } from '../dream/seedPool.js';
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { loadShippedJudge } from '../readability/shipped.js';
import type { ExperimentStore } from '../store/types.js';
import { BusyError, RunNotFoundError } from './errors.js';
import type { EventHub } from './events.js';
import type { ModelHost } from './models.js';

interface HostedRun {
  id: string;
  controller: AbortController;
  records: StepRecord[];
  finished: Promise<void>;
}

export interface RunHostOptions {
  events: EventHub;
  store: ExperimentStore;
  models: ModelHost;
  /** Runs hosted at once (they share the CPU: each yields between steps). */
  maxActive?: number;
}

export class RunHost {
  private readonly live = new Map<string, HostedRun>();

  constructor(private readonly opts: RunHostOptions) {}

  inUse(): boolean {
    return this.live.size > 0;
  }

  /** `seeded`'s windows: the Brown + SOTU seed pool, tokenised once per model. */
  private seeds: { model: GPT2; source: SeedSource } | undefined;

  private seedSource(model: GPT2, tok: TextTokenizer): SeedSource {
    if (this.seeds?.model !== model) this.seeds = { model, source: shippedSeedSource(model, tok) };
    return this.seeds.source;
  }

  /** Validate, register in the store, and start stepping in the background. Config errors reject here. */
  async start(partial: Partial<DreamConfig> & { target: TargetSpec }): Promise<string> {
    const max = this.opts.maxActive ?? 4;
    if (this.live.size >= max) throw new BusyError(`${this.live.size} dreams are running already (the limit is ${max}): stop one first`);
    const { lm, ref } = this.opts.models.require();
    // Every dream is judged for readability by the shipped judge (read once per process).
    const { judge } = await loadShippedJudge(lm.tokenizer);
    const seedSource = partial.method === 'seeded' ? this.seedSource(lm.model, lm.tokenizer) : undefined;
    if (this.live.size >= max) throw new BusyError(`${this.live.size} dreams are running already (the limit is ${max}): stop one first`);
    const controller = new AbortController();
    const dream = runDream({ model: lm.model, tokenizer: lm.tokenizer, modelDir: lm.source.dir, judge, seedSource }, partial, controller.signal);
    // runDream validated the config (and threw on a bad one); persistDream stores the filled-in form, every record
    // and the end, exactly as the CLI's dreams are stored.
    let gen: PersistedDream;
    try {
      gen = persistDream(this.opts.store, ref, dream, partial);
    } catch (e) {
      // The method may already hold tensors: let the generator run its cleanup (aborted before its first step).
      controller.abort();
      void drain(dream);
      throw e;
    }
    const id = gen.runId;
    const run: HostedRun = { id, controller, records: [], finished: Promise.resolve() };
    this.live.set(id, run);
    const summary = this.opts.store.getDreamRun(id);
    if (summary) this.opts.events.publish('dream.started', { run: toSummary(summary) });
    run.finished = this.drive(run, gen);
    return id;
  }

  private async drive(run: HostedRun, gen: PersistedDream): Promise<void> {
    const { events } = this.opts;
    let status: Exclude<RunStatus, 'running' | 'interrupted'> = 'failed';
    let result: DreamResult | null = null;
    let error: string | null = null;
    try {
      // Answer `start` first: the first step (and the initial evaluation) runs on a later turn of the loop.
      await new Promise((resolve) => setImmediate(resolve));
      for (;;) {
        const next = await gen.next();
        if (next.done) {
          result = next.value;
          break;
        }
        const index = run.records.length;
        run.records.push(next.value);
        events.publish('dream.step', { runId: run.id, index, record: next.value });
      }
      status = result.stopped === 'aborted' ? 'aborted' : 'completed';
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    } finally {
      this.live.delete(run.id);
      events.publish('dream.ended', { runId: run.id, status, result, error });
    }
  }

  /** Ask a run to stop; it records where it got to and ends as 'aborted'. False when it is not running. */
  stop(runId: string): boolean {
    const run = this.live.get(runId);
    if (!run) {
      if (!this.opts.store.getDreamRun(runId)) throw new RunNotFoundError(runId);
      return false;
    }
    run.controller.abort();
    return true;
  }

  /** Stop every run and wait until each has written its end (shutdown). */
  async stopAll(): Promise<void> {
    const runs = [...this.live.values()];
    for (const r of runs) r.controller.abort();
    await Promise.all(runs.map((r) => r.finished));
  }

  /** Resolves when the run has ended (tests, shutdown). */
  async finished(runId: string): Promise<void> {
    await this.live.get(runId)?.finished;
  }

  active(): RunSummary[] {
    return [...this.live.keys()].flatMap((id) => {
      const d = this.opts.store.getDreamRun(id);
      return d ? [toSummary(d)] : [];
    });
  }

  list(query: { search?: string; layer?: number; neuron?: number; limit?: number }): RunSummary[] {
    return this.opts.store.listRuns(query).map(toSummary);
  }

  /** A run with every record so far; a live run's records come from memory (never behind the events). */
  get(runId: string): RunDetail {
    const stored = this.opts.store.getDreamRun(runId);
    if (!stored) throw new RunNotFoundError(runId);
    const run = this.live.get(runId);
    const records: DreamStep[] = run ? [...run.records] : stored.records;
    return { ...stored, ...(run ? { status: 'running' as const } : {}), records };
  }
}

async function drain(gen: AsyncGenerator<StepRecord, DreamResult>): Promise<void> {
  try {
    while (!(await gen.next()).done);
  } catch {
    // cleanup only
  }
}

/** A stored run's summary fields only (details stay out of list replies). */
export function toSummary(d: RunSummary): RunSummary {
  return {
    id: d.id,
    kind: d.kind,
    model: d.model,
    target: d.target,
    layer: d.layer,
    neuron: d.neuron,
    method: d.method,
    status: d.status,
    createdAt: d.createdAt,
    finishedAt: d.finishedAt,
    steps: d.steps,
    bestText: d.bestText,
    bestValue: d.bestValue,
    bestCE: d.bestCE,
  };
}
