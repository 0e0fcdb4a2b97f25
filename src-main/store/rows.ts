// Row ↔ object mappers and small helpers shared by the store's modules.
import type { TargetSpec } from '../dream/config.js';
import { sumTerms, termName } from '../dream/objectiveExpression.js';
import type { SweepJobState, SweepPage, SweepPageRow } from '../sweep/types.js';
import type { DreamRunSummary, Explanation, RunStatus } from './types.js';

type Row = Record<string, unknown>;

/** `L2N104`, `L1H3`, `1·L1N7 − 0.5·L0N3`, `sae:L2.resid_pre:123`, or the direction's label (every run's label). */
export function targetLabel(t: TargetSpec): string {
  if (t.kind === 'neuron') return `L${t.layer}N${t.neuron}`;
  if (t.kind === 'head') return `L${t.layer}H${t.head}`;
  if (t.kind === 'sae') return `sae:${t.sae}:${t.latent}`;
  if (t.kind === 'sum') {
    return sumTerms(t)
      .map((x, i) => `${i === 0 ? (x.weight < 0 ? '−' : '') : x.weight < 0 ? ' − ' : ' + '}${Math.abs(x.weight)}·${termName(x)}`)
      .join('');
  }
  return t.label ?? `${t.hook} direction`;
}

/** Words of a user's query as an FTS5 expression (every word required; `word*` is a prefix); null if no words. */
export function ftsQuery(query: string): string | null {
  const terms = query.match(/[\p{L}\p{N}_]+\*?/gu) ?? [];
  if (!terms.length) return null;
  return terms.map((t) => (t.endsWith('*') ? `"${t.slice(0, -1)}"*` : `"${t}"`)).join(' ');
}

export function runSummary(r: Row): DreamRunSummary {
  return {
    id: r.id as string,
    kind: 'dream',
    model: r.model_spec as string,
    target: r.target as string,
    layer: r.layer as number | null,
    neuron: r.neuron as number | null,
    method: r.method as string,
    status: r.status as RunStatus,
    createdAt: r.created_at as string,
    finishedAt: r.finished_at as string | null,
    steps: r.steps as number,
    bestText: r.best_text as string | null,
    bestValue: r.best_value as number | null,
    bestCE: r.best_ce as number | null,
  };
}

export function explanationOf(r: Row): Explanation {
  return {
    id: r.id as string,
    modelFingerprint: r.model as string,
    layer: r.layer as number,
    neuron: r.neuron as number,
    sae: (r.sae as string | null) ?? null,
    text: r.text as string,
    source: r.source as string,
    score: r.score as number | null,
    scanId: r.scan_id as string | null,
    createdAt: r.created_at as string,
    meta: JSON.parse(r.meta as string) as Record<string, unknown>,
  };
}

export function sweepJobStateOf(r: Row): SweepJobState {
  return {
    model: r.model as string,
    layer: r.layer as number,
    neuron: r.neuron as number,
    settingsHash: r.settings_hash as string,
    status: r.status as SweepJobState['status'],
    attempts: r.attempts as number,
    error: r.error as string | null,
    owner: r.owner as string | null,
    startedAt: r.started_at as string | null,
    finishedAt: r.finished_at as string | null,
    elapsedMs: r.elapsed_ms as number | null,
  };
}

export function sweepPageRowOf(r: Row): SweepPageRow {
  return {
    model: r.model as string,
    layer: r.layer as number,
    neuron: r.neuron as number,
    settingsHash: r.settings_hash as string,
    scanId: r.scan_id as string,
    dreamRunIds: JSON.parse(r.dream_runs as string) as string[],
    explanationIds: JSON.parse(r.explanations as string) as string[],
    score: r.score as number | null,
    page: JSON.parse(r.page as string) as SweepPage,
    createdAt: r.created_at as string,
    elapsedMs: r.elapsed_ms as number,
  };
}
