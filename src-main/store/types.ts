// The experiment store's contract: what the engine, the CLI, the server and the Electron shell may ask of it.
// One implementation (SQLite, src-main/store/sqlite.ts); this file has no dependencies (its imports are dependency-free
// types) so every layer can import it, the contract (api/wire.ts) included.
import type { WireDreamConfig as DreamConfig } from '../dream/settings/types.js';
import type { DreamResult, StepRecord } from '../dream/records.js';
import type { SweptNeuron, SweepJobKey, SweepJobState, SweepPage, SweepPageRow, SweepSettings } from '../sweep/types.js';

export type RunStatus = 'running' | 'completed' | 'aborted' | 'interrupted' | 'failed';

export interface ModelRef {
  /** What the user passed (--model), e.g. a folder or a hub id. */
  spec: string;
  /** Resolved folder and a content fingerprint, so runs on different weights never mix. */
  dir: string;
  fingerprint: string;
  nLayer: number;
  dModel: number;
  dMlp: number;
}

export interface DreamRunSummary {
  id: string;
  kind: 'dream';
  model: string; // ModelRef.spec
  target: string; // e.g. L2N104
  layer: number | null;
  neuron: number | null;
  method: string;
  status: RunStatus;
  createdAt: string; // ISO
  finishedAt: string | null;
  steps: number;
  bestText: string | null;
  bestValue: number | null;
  bestCE: number | null;
}

export interface DreamRunDetail extends DreamRunSummary {
  config: DreamConfig;
  records: StepRecord[];
  result: DreamResult | null;
  error: string | null;
}

export interface ExperimentStore {
  readonly path: string;
  /** Every run left 'running' by a dead process becomes 'interrupted' when the store opens. */
  startDreamRun(model: ModelRef, config: DreamConfig): string;
  appendDreamStep(runId: string, record: StepRecord): void;
  finishDreamRun(runId: string, status: Exclude<RunStatus, 'running' | 'interrupted'>, result: DreamResult | null, error?: string): void;
  listRuns(opts?: { search?: string; layer?: number; neuron?: number; limit?: number }): DreamRunSummary[];
  getDreamRun(id: string): DreamRunDetail | null;
  close(): void;
}

// ------------------------------------------------------------------------------------------------------------
// Beyond dreams: corpus scans, neuron pages, explanations, full-text search, export/import. These live in their
// own interfaces so that every ExperimentStore (the SQLite one, the engine's in-memory one) keeps compiling;
// the SQLite store implements them all (`ExperimentHistory`).

/** A corpus as scanned: what the user asked for and a fingerprint of the documents' ids and texts. */
export interface CorpusRef {
  /** e.g. `brown`, `brown+sotu:held-out`, `/abs/path/notes.jsonl`. */
  spec: string;
  fingerprint: string;
  documents: number;
}

/** Everything that determines a scan's results (batch size does not: results are the same for any batch). */
/** The SAE a latent scan reads: as the user named it, its files' fingerprint, the hook it encodes, its width. */
export interface ScanSae {
  spec: string;
  fingerprint: string;
  hook: string;
  latents: number;
}

export interface ScanConfig {
  /** Blocks whose MLP neurons (`blocks.L.mlp.hook_post`) are scanned, ascending; with `sae`, the SAE hook's block alone. */
  layers: number[];
  /** Scan this SAE's latents instead of MLP neurons (rows keyed by the hook's layer and the latent's index). */
  sae?: ScanSae;
  /** Text tokens per window; each window runs behind an <|endoftext|> prefix (not counted), as dreams are measured. */
  window: number;
  /** Top windows kept per neuron (by the window's largest activation). */
  top: number;
  /** Random windows kept (the same windows for every neuron), with each neuron's activations on them. */
  random: number;
  /** Stop after about this many tokens (windows are taken in a seeded random order); null = the whole corpus. */
  maxTokens: number | null;
  /** Seed of the window order (and so of the random sample). */
  seed: number;
  /** Histogram, quantiles, std and min come from every `sample`-th token of each window (1 = every token); count,
   * mean, max and the fraction active are always exact. See scan/accumulate.ts. */
  sample: number;
  /** Only the held-out documents of the default model's split (LM_SPLIT). */
  heldOut: boolean;
}

export interface ScanSummary {
  id: string;
  kind: 'scan';
  model: string; // ModelRef.spec when the scan was made
  modelFingerprint: string;
  corpus: string; // CorpusRef.spec
  corpusFingerprint: string;
  config: ScanConfig;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  windowsTotal: number;
  windowsDone: number;
  tokensTotal: number;
  tokensDone: number;
  /** Compute time over all sessions of the scan (resumes included). */
  elapsedMs: number;
  error: string | null;
}

/** One neuron's corpus statistics (post-GELU activations). count, mean, max and positive are exact over every
 * scanned token; std, min, the histogram and quantiles come from the token sample (`sampled` tokens). */
export interface NeuronStatsView {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Fraction of tokens with activation > 0. */
  positive: number;
  sampled: number;
  /** Estimated from the histogram (see scan/histogram.ts), clamped to [min, max]. */
  quantiles: { q: number; value: number }[];
  /** The histogram's non-empty bins (index into scan/histogram.ts's fixed bins), low to high; edges clamped to [min, max]. */
  bins: { bin: number; lo: number; hi: number; count: number }[];
}

/** A corpus window with one neuron's activation on each of its tokens. */
export interface NeuronExample {
  /** 1-based rank for top examples (highest first); sample order for random ones. */
  rank: number;
  window: number;
  docId: string;
  /** Offset of the window's first token in its document (in tokens). */
  start: number;
  text: string;
  ids: number[];
  tokens: string[];
  acts: number[];
  max: number;
  /** Index (into tokens) of the strongest token: the first one reaching `max`. */
  maxAt: number;
}

export interface Explanation {
  id: string;
  modelFingerprint: string;
  /** For an SAE latent: its hook's layer and the latent (with `sae`). */
  layer: number;
  neuron: number;
  /** The explained SAE latent's SAE (its file fingerprint, as a scan's config.sae records it); null for an MLP neuron. */
  sae: string | null;
  text: string;
  /** Who wrote it: `human`, `offline`, an LLM name, ... */
  source: string;
  /** Simulation score (correlation) when it was scored. */
  score: number | null;
  scanId: string | null;
  createdAt: string;
  meta: Record<string, unknown>;
}

export type NewExplanation = Omit<Explanation, 'id' | 'createdAt' | 'scanId' | 'score' | 'meta' | 'sae'> &
  Partial<Pick<Explanation, 'id' | 'createdAt' | 'scanId' | 'score' | 'meta' | 'sae'>>;

/** A neuron's page: what `textdream neuron --json` prints and what the store exports for one neuron. */
export interface NeuronPageData {
  format: 'textdream-neuron';
  model: { spec: string; fingerprint: string } | null;
  /** For an SAE latent: its hook's layer and the latent's index (`sae` says which SAE). */
  layer: number;
  neuron: number;
  hook: string;
  /** The SAE whose latent this page is (null: an MLP neuron). */
  sae: ScanSae | null;
  scan: ScanSummary | null;
  stats: NeuronStatsView | null;
  top: NeuronExample[];
  random: NeuronExample[];
  dreams: DreamRunSummary[];
  explanations: Explanation[];
}

export interface SearchHit {
  kind: 'dream' | 'window' | 'explanation';
  /** Dream run id, `<scanId>:<window>` or explanation id. */
  ref: string;
  snippet: string;
}

/** The whole history in one JSON document (blobs as base64 little-endian float32/int32). */
export interface HistoryFile {
  format: 'textdream-history';
  schemaVersion: number;
  exportedAt: string;
  models: ModelRef[];
  corpora: CorpusRef[];
  scans: ExportedScan[];
  dreamRuns: (DreamRunDetail & { modelFingerprint: string })[];
  explanations: Explanation[];
}

export interface ExportedScan {
  summary: ScanSummary;
  windows: { index: number; docId: string; start: number; ids: string; text: string; tokens: string[] }[];
  /** Per layer, the state arrays of all its neurons (see ScanLayerState). */
  stats: { layer: number; tokens: number; sampled: number; neurons: number; sum: string; positive: string; max: string; ssum: string; ssq: string; min: string; hist: string }[];
  top: { layer: number; neuron: number; windows: string; values: string; maxAt: string; lengths: string; acts: string }[];
  random: { layer: number; neuron: number; windows: string; lengths: string; acts: string }[];
}

export interface ImportReport {
  models: number;
  corpora: number;
  scans: number;
  dreamRuns: number;
  explanations: number;
  /** Rows already present (same ids) and left as they were. */
  skipped: number;
}

export interface ListScansOptions {
  model?: string; // fingerprint
  status?: RunStatus;
  limit?: number;
}

/** Reads and writes beyond dream runs; implemented by the SQLite store. */
export interface ExperimentHistory extends ExperimentStore {
  readonly schemaVersion: number;
  listScans(opts?: ListScansOptions): ScanSummary[];
  getScan(id: string): ScanSummary | null;
  /** The newest usable scan (completed first, then the newest with progress) of a model covering `layer`. */
  /** The scan a neuron's page reads: finished first, then the newest (scans of SAE latents are not neuron scans). */
  scanFor(modelFingerprint: string, layer: number): ScanSummary | null;
  /** The same for the latents of the SAE with this fingerprint. */
  saeScanFor(modelFingerprint: string, saeFingerprint: string): ScanSummary | null;
  /** `model` is a fingerprint, or a spec (the newest model row with that spec). Null when the model is unknown. */
  /** With `sae` (an SAE's fingerprint): the page of latent `neuron` from that SAE's scan. */
  neuronPage(q: { model: string; layer: number; neuron: number; sae?: string; scanId?: string; examples?: number; random?: number }): NeuronPageData | null;
  addExplanation(e: NewExplanation): Explanation;
  /** `sae`: null for MLP neurons' explanations only, an SAE's fingerprint for its latents'; left out, both. */
  listExplanations(q: { model?: string; layer?: number; neuron?: number; sae?: string | null; search?: string; limit?: number }): Explanation[];
  /** Full-text search (FTS5) over dream texts, scanned windows and explanations. Words are ANDed; `word*` is a prefix. */
  search(query: string, opts?: { kinds?: SearchHit['kind'][]; limit?: number }): SearchHit[];
  exportHistory(): HistoryFile;
  /** Idempotent: rows are matched by id; existing ones are left alone. Runs left 'running' arrive 'interrupted'. */
  importHistory(file: HistoryFile): ImportReport;
}

// ------------------------------------------------------------------------------------------------------------
// What a scan writes (src-main/scan drives it). Arrays are per layer or per neuron so a checkpoint is a few
// large rows rather than one row per number.

/** Running statistics of every neuron of one layer (index = neuron; hist is [neurons, HIST_BINS] row-major).
 * Over every token: tokens, sum, positive, max. Over the token sample: sampled, ssum, ssq, min, hist. */
export interface ScanLayerState {
  layer: number;
  neurons: number;
  tokens: number;
  sum: Float64Array;
  positive: Float64Array;
  max: Float32Array;
  sampled: number;
  ssum: Float64Array;
  ssq: Float64Array;
  min: Float32Array;
  hist: Uint32Array;
}

/** One neuron's kept top windows, in slot order (unsorted); acts holds each window's activations back to back. */
export interface TopSlots {
  layer: number;
  neuron: number;
  windows: Int32Array;
  values: Float32Array;
  maxAt: Uint16Array;
  lengths: Uint16Array;
  acts: Float32Array;
}

/** One neuron's activations on the random windows, in sample order (the same windows for every neuron). */
export interface RandomSlots {
  layer: number;
  neuron: number;
  windows: Int32Array;
  lengths: Uint16Array;
  acts: Float32Array;
}

export interface ScanWindowRow {
  index: number;
  docId: string;
  start: number;
  ids: ArrayLike<number>;
  text: string;
  tokens: string[];
}

/** Everything a scan learned since its last checkpoint, written in one transaction with its progress. */
export interface ScanCheckpoint {
  windowsDone: number;
  tokensDone: number;
  elapsedMs: number;
  /** Windows that top or random rows of this checkpoint refer to (existing ones are kept). */
  windows: ScanWindowRow[];
  /** Every scanned layer's state (small: a few hundred bytes per neuron). */
  stats: ScanLayerState[];
  /** Only the neurons whose top windows changed. */
  top: TopSlots[];
  /** Every neuron's random windows, when the sample grew since the last checkpoint. */
  random: RandomSlots[];
}

export interface ScanWriter {
  createScan(model: ModelRef, corpus: CorpusRef, config: ScanConfig, totals: { windows: number; tokens: number }): ScanSummary;
  /** A scan of the same model, corpus and config that has not completed (to resume), newest first. */
  findResumable(modelFingerprint: string, corpusFingerprint: string, config: ScanConfig): ScanSummary | null;
  findCompleted(modelFingerprint: string, corpusFingerprint: string, config: ScanConfig): ScanSummary | null;
  /** Marks the scan as running in this process; throws when another live process is running it. */
  claimScan(id: string): ScanSummary;
  /** The state written by the last checkpoint, and the windows already stored. */
  loadScanState(id: string): { stats: ScanLayerState[]; top: TopSlots[]; random: RandomSlots[]; windows: number[] };
  checkpointScan(id: string, cp: ScanCheckpoint): void;
  finishScan(id: string, status: Exclude<RunStatus, 'running' | 'interrupted'>, error?: string): void;
  getScan(id: string): ScanSummary | null;
}

// ------------------------------------------------------------------------------------------------------------
// Sweeps (src-main/sweep drives them): one job per neuron, keyed by (model fingerprint, layer, neuron, settings
// hash); a finished job's dreams, explanations, page and status are written together in one transaction.

/** Everything a finished neuron job writes. */
export interface SweepCompletion {
  key: SweepJobKey;
  settings: SweepSettings;
  model: ModelRef;
  scanId: string;
  /** Each dream as it ran: its config, its step records and its result (stored as dream runs). */
  dreams: { config: DreamConfig; records: StepRecord[]; result: DreamResult }[];
  /** The page's explanation first, then (with dreams) the one without. */
  explanations: NewExplanation[];
  score: number | null;
  page: SweepPage;
  elapsedMs: number;
}

/** Why a job was not claimed: finished, running in another live process, or out of attempts. */
export type SweepClaim = { claimed: true; state: SweepJobState } | { claimed: false; reason: 'done' | 'running' | 'exhausted'; state: SweepJobState };

export interface SweepStore {
  /**
   * Marks the job running in this process and counts an attempt, unless it is done (and not `force`), running in
   * another live process, or failed `maxAttempts` times already (and not `force`). `force` also restarts the count.
   */
  claimSweepJob(key: SweepJobKey, settings: SweepSettings, opts: { maxAttempts: number; force?: boolean }): SweepClaim;
  /** Records a failed attempt with its error message. */
  failSweepJob(key: SweepJobKey, error: string): SweepJobState;
  /** A claimed job stopped before it finished (abort): pending again, its attempt not counted as a failure. */
  releaseSweepJob(key: SweepJobKey): void;
  /**
   * Writes the job's dream runs, explanations and page and marks it done, in one transaction. 'duplicate' (and
   * nothing written) when the page exists already, unless `replace` (then the new page takes its place; the old
   * dream runs and explanations stay in the history).
   */
  completeSweepJob(c: SweepCompletion, opts?: { replace?: boolean }): 'written' | 'duplicate';
  sweepJobStates(model: string, settingsHash: string): SweepJobState[];
  sweepPage(key: SweepJobKey): SweepPageRow | null;
  sweepPages(model: string, settingsHash: string): SweepPageRow[];
  /** A layer's swept neurons (every sweep of the model), filtered by words of their explanations and dreams. */
  /** `sae`: an SAE's fingerprint, for the latents of sweeps of that SAE (under its hook's layer). */
  sweptLayer(model: string, layer: number, search?: string, sae?: string | null): SweptNeuron[];
}
