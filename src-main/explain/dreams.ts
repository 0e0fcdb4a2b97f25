// Dreams as extra explainer records: a short `fluent` dream of the neuron, and its best dream per λ (hard
// evaluated: decoded, re-tokenised and measured), each with its per-token activations.
import type { DreamConfig, TargetSpec } from '../dream/config.js';
import type { DreamContext, DreamResult } from '../dream/loop.js';
import { dreamToEnd, runDream } from '../dream/run.js';
import type { ActivationRecord } from './types.js';

/** A modest budget: a few λ, few candidates, few steps. */
export const DREAM_RECORD_CONFIG: Partial<DreamConfig> = {
  method: 'fluent',
  steps: 24,
  every: 4,
  seqLen: 10,
  lambdas: [0, 0.3, 1],
  candidates: 16,
  topK: 24,
  seed: 0,
};

export interface DreamSummary {
  label: string;
  text: string;
  /** Hard values: mean and max activation over the dream's tokens, and its cross-entropy in nats. */
  mean: number;
  max: number;
  ce: number;
}

export interface DreamRecords {
  records: ActivationRecord[];
  dreams: DreamSummary[];
  config: Partial<DreamConfig>;
  elapsedMs: number;
}

/** Dream the target (a neuron, an SAE latent) and return the best dream per λ as records (duplicate texts dropped). */
export async function dreamRecords(ctx: DreamContext, target: TargetSpec, overrides: Partial<DreamConfig> = {}, signal?: AbortSignal): Promise<DreamRecords> {
  const config = { ...DREAM_RECORD_CONFIG, ...overrides };
  const result = await dreamToEnd(runDream(ctx, { ...config, target }, signal));
  return { ...dreamRecordsOf([result]), config, elapsedMs: result.elapsedMs };
}

/** The best dream per label of each result as records, in order (empty dreams and repeated texts dropped). */
export function dreamRecordsOf(results: DreamResult[]): Pick<DreamRecords, 'records' | 'dreams'> {
  const seen = new Set<string>();
  const kept = results.flatMap((r) => r.bestPerLabel).filter((d) => d.tokens.length > 0 && !seen.has(d.text) && seen.add(d.text));
  return {
    records: kept.map((d) => ({ tokens: d.tokens, activations: d.perToken })),
    dreams: kept.map((d) => ({ label: d.label, text: d.text, mean: d.mean, max: d.max, ce: d.ce })),
  };
}
