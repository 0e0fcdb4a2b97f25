// What a sweep job is and what it leaves behind. Types only (no imports with code), so the store's contract and a
// future queue adapter can name them without loading the engine.
import type { WireDreamConfig as DreamConfig } from '../dream/settings/types.js';
import type { ScanConfig } from '../store/types.js';

/** Everything that determines a neuron job's results; its hash is part of every job's key. */
export interface SweepSettings {
  /** Bumped when the job's procedure changes in a way that changes its results (2: dreams judged for readability; 3: an unedited
   *  seed is never a page's readable dream). */
  version: 3;
  /** The corpus scan every job reads its records from: one pass over all of the model's layers. */
  /** The scan's settings (store/types.ts's ScanConfig; every layer is scanned, so no layer list). */
  scan: Omit<ScanConfig, 'layers'> & {
    /** A bundled corpus name (`brown+sotu`) or an absolute file path; with `heldOut`, its held-out documents only. */
    corpus: string;
  };
  /** One dream per entry, in order: complete configs (defaults filled in) without the target. */
  dreams: Omit<DreamConfig, 'target'>[];
  explain: {
    /** `offline`, or `llm:<model name>` (the endpoint is not part of the key: the model is what answers). */
    explainer: string;
    /** Explain twice, without and with the dreams as extra records, and keep the uplift. */
    withDreams: boolean;
  };
}

/** One neuron of one model under one set of settings: the unit of work, plain data (a queue can carry it). */
export interface SweepJob {
  /** The model's content fingerprint (store/persist.ts fingerprintFiles). */
  model: string;
  layer: number;
  neuron: number;
  settingsHash: string;
  settings: SweepSettings;
}

export type SweepJobKey = Pick<SweepJob, 'model' | 'layer' | 'neuron' | 'settingsHash'>;

/** A stored job's state; a job with no row has never been claimed (pending). */
export type SweepJobStatus = 'running' | 'done' | 'failed' | 'interrupted';

export interface SweepJobState extends SweepJobKey {
  status: SweepJobStatus;
  /** Attempts so far (each claim counts one). */
  attempts: number;
  /** The last failure's `Name: message`. */
  error: string | null;
  /** `host:pid` of the process that claimed it last. */
  owner: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Compute time of the attempt that finished it. */
  elapsedMs: number | null;
}

export interface SweepDreamSummary {
  label: string;
  text: string;
  value: number | null;
  ce: number | null;
  /** The readability judge's verdict (readability/assess.ts): syntax percentile among human windows, readable or not. */
  percentile: number | null;
  /** The readability rule's verdict; false for a seed that no edit changed (corpus text, not a dream). */
  readable: boolean;
  /** Corpus-seeded dreams: the number of token edits of the seed window; null for other methods. */
  edits?: number | null;
}

export interface SweepExplanationSummary {
  text: string;
  explainer: string;
  simulator: string;
  withDreams: boolean;
  score: number | null;
  scoreTop: number | null;
  scoreRandom: number | null;
}

/**
 * A neuron's page as a sweep leaves it: its corpus statistics, its dreams and its scored explanation. Only results
 * (no ids, no timestamps), so two sweeps with the same settings give equal pages; the rows it came from are named
 * beside it (SweepPageRow).
 */
export interface SweepPage {
  format: 'textdream-sweep-page';
  layer: number;
  neuron: number;
  /** Over the scan's tokens (null when the scan kept no statistics for the neuron). */
  stats: { count: number; mean: number | null; max: number | null; positive: number | null } | null;
  /** The largest activation the explanation's records saw (the 0-10 scale's 10). */
  maxActivation: number | null;
  /** `best`: the most activating dream; `bestReadable`: the most activating one the readability rule accepts. */
  dreams: { method: string; steps: number; best: SweepDreamSummary | null; bestReadable: SweepDreamSummary | null; bestPerLabel: SweepDreamSummary[] }[];
  /** The explanation kept for the neuron (with dreams when the settings ask for them). */
  explanation: SweepExplanationSummary;
  /** With `withDreams`: the explanation from corpus records alone, and the score gained by adding dreams. */
  withoutDreams: SweepExplanationSummary | null;
  uplift: number | null;
}

export interface SweepPageRow extends SweepJobKey {
  scanId: string;
  dreamRunIds: string[];
  /** The page's explanation first, then (with dreams) the one without. */
  explanationIds: string[];
  score: number | null;
  page: SweepPage;
  createdAt: string;
  elapsedMs: number;
}

/** One neuron of a swept layer as the neuron browser lists it: its job's state and, once done, its page's figures. */
export interface SweptNeuron {
  layer: number;
  neuron: number;
  settingsHash: string;
  /** The job's state; 'done' once its page is written. */
  status: SweepJobStatus;
  attempts: number;
  error: string | null;
  /** From the page (null until the job is done). */
  max: number | null;
  mean: number | null;
  /** Fraction of scanned tokens with activation > 0. */
  density: number | null;
  explanation: string | null;
  score: number | null;
  /** The most activating readable dream over the page's methods; without one, the most activating dream. */
  dream: string | null;
  dreamValue: number | null;
  /** Whether `dream` is readable (null until the job is done). */
  dreamReadable: boolean | null;
  finishedAt: string | null;
}
