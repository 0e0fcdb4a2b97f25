// The explanation side of the experiment store: records from a corpus scan when the store has one for the
// neuron's layer, and explanations (with their scores and how they were made) saved as rows. Typed against the
// store's contract only, so any ExperimentHistory works. Nothing here ever sees an API key.
import type { ExperimentHistory, Explanation, NeuronExample, ScanSummary } from '../store/types.js';
import type { DreamSummary } from './dreams.js';
import type { ExplanationRun } from './pipeline.js';
import type { ActivationRecord, NeuronRecords } from './types.js';

export interface StoredRecords {
  records: NeuronRecords;
  scanId: string;
  corpus: string;
}

const toRecord = (e: NeuronExample): ActivationRecord => ({ tokens: e.tokens, activations: e.acts });

/** The neuron's records from the newest usable scan of its layer; null when there is none (or it holds too few). */
export function recordsFromStore(store: ExperimentHistory, modelFingerprint: string, layer: number, neuron: number, want = { top: 20, random: 10 }): StoredRecords | null {
  const scan = store.scanFor(modelFingerprint, layer);
  return scan ? recordsFromScan(store, scan, layer, neuron, want) : null;
}

/** The neuron's records from one given scan; null when it holds too few. */
export function recordsFromScan(store: ExperimentHistory, scan: ScanSummary, layer: number, neuron: number, want = { top: 20, random: 10 }): StoredRecords | null {
  const page = store.neuronPage({ model: scan.modelFingerprint, layer, neuron, scanId: scan.id, examples: want.top, random: want.random });
  // The protocol needs records to explain from and to score on: at least two top and one random.
  if (!page || page.top.length < 2 || page.random.length < 1) return null;
  const topMax = Math.max(...page.top.map((e) => e.max));
  return {
    records: {
      layer,
      neuron,
      top: [...page.top].sort((a, b) => a.rank - b.rank).map(toRecord),
      random: page.random.map(toRecord),
      maxActivation: page.stats && Number.isFinite(page.stats.max) ? Math.max(page.stats.max, topMax) : topMax,
    },
    scanId: scan.id,
    corpus: scan.corpus,
  };
}

export interface SaveContext {
  modelFingerprint: string;
  scanId?: string | null;
  /** Where the records came from: `scan <id> of <corpus>` or `held-out <corpus>`. */
  records: string;
  /** For LLM runs: endpoint (no credentials) and model; never the key. */
  llm?: { baseURL: string; model: string } | null;
  dreams?: DreamSummary[];
  /** An SAE latent's explanation: the SAE's fingerprint (the run's layer is its hook's, its neuron the latent). */
  sae?: string | null;
}

/** What is stored for one explanation: the text, its pooled score, and how it was made and scored in `meta`. */
export function explanationRow(run: ExplanationRun, ctx: SaveContext) {
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    modelFingerprint: ctx.modelFingerprint,
    layer: run.layer,
    neuron: run.neuron,
    sae: ctx.sae ?? null,
    text: run.explanation,
    source: run.explainer,
    score: finite(run.score.all),
    scanId: ctx.scanId ?? null,
    meta: {
      protocol: 'simulate-and-score (all at once)',
      simulator: run.simulator,
      withDreams: run.withDreams,
      scoreTop: finite(run.score.top),
      scoreRandom: finite(run.score.random),
      perRecord: run.score.records.map((r) => ({ kind: r.kind, index: r.index, correlation: finite(r.correlation), ...(r.error ? { error: r.error } : {}) })),
      failed: run.score.failed,
      counts: run.counts,
      maxActivation: run.maxActivation,
      records: ctx.records,
      ...(ctx.llm ? { llm: ctx.llm } : {}),
      ...(run.withDreams && ctx.dreams ? { dreams: ctx.dreams } : {}),
    },
  };
}

export function saveExplanation(store: Pick<ExperimentHistory, 'addExplanation'>, run: ExplanationRun, ctx: SaveContext): Explanation {
  return store.addExplanation(explanationRow(run, ctx));
}
