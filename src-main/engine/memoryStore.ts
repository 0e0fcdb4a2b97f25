// An ExperimentStore that lives in memory: for engine tests, and for `serve --db :memory:` (history is lost
// when the process ends). The real store is SQLite (src-main/store/sqlite.ts); both follow store/types.ts.
import { randomUUID } from 'node:crypto';
import type { DreamConfig } from '../dream/config.js';
import { targetLabel } from '../store/rows.js';
import type { DreamResult, StepRecord } from '../dream/loop.js';
import type { DreamRunDetail, DreamRunSummary, ExperimentStore, ModelRef, RunStatus } from '../store/types.js';

export class MemoryStore implements ExperimentStore {
  readonly path = ':memory:';
  private readonly runs = new Map<string, DreamRunDetail>();

  startDreamRun(model: ModelRef, config: DreamConfig): string {
    const id = randomUUID();
    const t = config.target;
    this.runs.set(id, {
      id,
      kind: 'dream',
      model: model.spec,
      target: targetLabel(t),
      layer: t.kind === 'neuron' ? t.layer : null,
      neuron: t.kind === 'neuron' ? t.neuron : null,
      method: config.method,
      status: 'running',
      createdAt: new Date().toISOString(),
      finishedAt: null,
      steps: 0,
      bestText: null,
      bestValue: null,
      bestCE: null,
      config: structuredClone(config),
      records: [],
      result: null,
      error: null,
    });
    return id;
  }

  private run(id: string): DreamRunDetail {
    const r = this.runs.get(id);
    if (!r) throw new Error(`no run ${id}`);
    return r;
  }

  appendDreamStep(runId: string, record: StepRecord): void {
    const r = this.run(runId);
    r.records.push(structuredClone(record));
    r.steps = record.step;
    const b = record.dreams[record.best];
    if (b && Number.isFinite(b.value) && (r.bestValue === null || b.value > r.bestValue)) {
      r.bestText = b.text;
      r.bestValue = b.value;
      r.bestCE = b.ce;
    }
  }

  finishDreamRun(runId: string, status: Exclude<RunStatus, 'running' | 'interrupted'>, result: DreamResult | null, error?: string): void {
    const r = this.run(runId);
    r.status = status;
    r.finishedAt = new Date().toISOString();
    r.result = result ? structuredClone(result) : null;
    r.error = error ?? null;
    if (result) {
      r.steps = result.steps;
      if (result.best) {
        r.bestText = result.best.text;
        r.bestValue = result.best.value;
        r.bestCE = result.best.ce;
      }
    }
  }

  listRuns(opts: { search?: string; layer?: number; neuron?: number; limit?: number } = {}): DreamRunSummary[] {
    const q = opts.search?.toLowerCase();
    return [...this.runs.values()]
      .filter((r) => opts.layer === undefined || r.layer === opts.layer)
      .filter((r) => opts.neuron === undefined || r.neuron === opts.neuron)
      .filter((r) => !q || [r.target, r.method, r.model, r.bestText ?? '', r.id].some((s) => s.toLowerCase().includes(q)))
      .reverse()
      .slice(0, opts.limit ?? 100)
      .map(({ config: _c, records: _r, result: _x, error: _e, ...summary }) => summary);
  }

  getDreamRun(id: string): DreamRunDetail | null {
    const r = this.runs.get(id);
    return r ? structuredClone(r) : null;
  }

  close(): void {
    this.runs.clear();
  }
}
