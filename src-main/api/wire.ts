/**
 * Plain data that crosses the contract (IPC structured clone, HTTP JSON, SSE). No imports and no classes:
 * this file is bundled into the sandboxed preload and the browser renderer, like contract.ts.
 *
 * Several types mirror engine types (StepRecord, DreamResult, DreamConfig, the store's run rows); the engine
 * proves at compile time that its values are assignable to these (src-main/engine/wireChecks.ts), so the
 * two cannot drift apart silently.
 */

// ---------------------------------------------------------------------------------------------- models

export interface ModelInfo {
  /** What was asked for: a folder or a hub id. */
  spec: string;
  /** Folder the files were read from. */
  dir: string;
  source: 'folder' | 'cache' | 'download';
  nLayer: number;
  dModel: number;
  nHead: number;
  dMlp: number;
  nPositions: number;
  vocabSize: number;
  parameters: number;
  dtypes: string[];
  /** tfjs backend running it ('wasm', 'tensorflow', 'cpu'). */
  backend: string;
}

export interface ModelChoice {
  spec: string;
  label: string;
  kind: 'default' | 'fixture' | 'recent';
  /** False when the folder is missing (e.g. the default model has not been trained yet). */
  available: boolean;
  note?: string;
}

export interface ModelsState {
  current: ModelInfo | null;
  /** Spec being loaded right now, if any. */
  loading: string | null;
  /** The last load's failure, if it failed. */
  failure: string | null;
  choices: ModelChoice[];
}

// --------------------------------------------------------------------------------------------- neurons

export interface TokenValue {
  /** The token's own text. */
  text: string;
  /** The activation at that token. */
  value: number;
}

export interface NeuronExample {
  /** Tokens of the example window with the neuron's activation at each. */
  tokens: TokenValue[];
  /** Its largest activation, and where. */
  max: number;
  at: number;
  /** Where the window came from (document id, offset), if known. */
  source?: string;
}

export interface NeuronStats {
  /** Tokens the statistics cover. */
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Fraction of tokens where the activation is > 0. */
  positive: number;
}

export interface LensToken {
  id: number;
  token: string;
  /** Direct effect on the logit of a unit of this neuron's output (its row of c_proj through W_U). */
  logit: number;
}

export interface NeuronPage {
  layer: number;
  neuron: number;
  /** Hook read: `blocks.L.mlp.hook_post`. */
  hook: string;
  /** Corpus statistics; null when no scan covers this model yet (see `scan`). */
  stats: NeuronStats | null;
  quantiles: { q: number; value: number }[];
  histogram: { edges: number[]; counts: number[] } | null;
  topExamples: NeuronExample[];
  /** Logit lens of the neuron's output weights: the tokens it promotes and suppresses most. */
  lens: { top: LensToken[]; bottom: LensToken[] };
  /** Which scan the statistics came from, or why there is none. */
  scan: { label: string; tokens: number } | { missing: string };
}

export interface NeuronHit {
  layer: number;
  neuron: number;
  /** Largest activation over the text, and its token. */
  max: number;
  at: number;
}

export interface NeuronSearchResult {
  tokens: string[];
  /** Top neurons over all layers (or the requested layer), by their largest activation on the text. */
  hits: NeuronHit[];
}

// ---------------------------------------------------------------------------------------------- dreams

export type WireTarget =
  | { kind: 'neuron'; layer: number; neuron: number }
  | { kind: 'direction'; hook: string; layer: number; direction: number[]; label?: string }
  | { kind: 'sum'; terms: { layer: number; neuron: number; weight: number }[] };

export type DreamMethodName = 'embed' | 'projected' | 'fluent' | 'subspace';

/** The dream RunConfig as it crosses the contract (same fields as the engine's DreamConfig). */
export interface DreamSettings {
  target: WireTarget;
  method: DreamMethodName;
  reduce: 'mean' | 'max' | 'last';
  transform: 'none' | 'sigmoid';
  seqLen: number;
  batch: number;
  steps: number;
  lr: number;
  seed: number;
  prompt?: string;
  decoder: string;
  fluency: number;
  manifold: number;
  k: number;
  basis: 'pca' | 'random';
  lambdas: number[];
  candidates: number;
  topK: number;
  topP: number;
  every: number;
}

/** One hard-evaluated dream (decoded, re-tokenised, re-measured). */
export interface DreamSample {
  label: string;
  text: string;
  ids: number[];
  tokens: string[];
  perToken: number[];
  max: number;
  mean: number;
  value: number;
  ce: number;
}

export interface DreamStep {
  step: number;
  soft: number;
  dreams: DreamSample[];
  best: number;
  forwardEquivalents: number;
  elapsedMs: number;
}

export interface DreamOutcome {
  config: DreamSettings;
  method: string;
  target: string;
  stopped: 'completed' | 'aborted';
  steps: number;
  best: DreamSample | null;
  bestPerLabel: DreamSample[];
  initial: DreamSample[];
  forwardEquivalents: number;
  elapsedMs: number;
}

export type RunStatus = 'running' | 'completed' | 'aborted' | 'interrupted' | 'failed';

export interface RunSummary {
  id: string;
  kind: 'dream';
  model: string;
  target: string;
  layer: number | null;
  neuron: number | null;
  method: string;
  status: RunStatus;
  createdAt: string;
  finishedAt: string | null;
  steps: number;
  bestText: string | null;
  bestValue: number | null;
  bestCE: number | null;
}

export interface RunDetail extends RunSummary {
  config: DreamSettings;
  records: DreamStep[];
  result: DreamOutcome | null;
  error: string | null;
}

export interface RunComparison {
  a: RunDetail;
  b: RunDetail;
  /** Settings that differ between the two runs, `a` value then `b` value (JSON text). */
  settingsDiff: { key: string; a: string; b: string }[];
}

export type ExportFormat = 'json' | 'csv';

export interface ExportedFile {
  filename: string;
  mime: string;
  content: string;
}

// ----------------------------------------------------------------------------------- mnist and explain

export interface ExplanationScore {
  /** Pearson correlation of simulated and true activations, pooled over every scored token (NaN: undefined). */
  all: number;
  top: number;
  random: number;
  /** Records the simulator failed on (left out). */
  failed: number;
}

export interface ExplanationView {
  withDreams: boolean;
  explanation: string;
  explainer: string;
  simulator: string;
  score: ExplanationScore;
  counts: { explain: number; synthetic: number; scoreTop: number; scoreRandom: number };
  elapsedMs: number;
}

export interface ExplainResult {
  layer: number;
  neuron: number;
  /** Where the records came from (a scan in the store, or held-out corpus windows). */
  records: string;
  maxActivation: number;
  /** Without dreams, then (withDreams) with dreams. */
  runs: ExplanationView[];
  /** The dreams added as synthetic records (best per λ), when withDreams. */
  dreams: { label: string; text: string; mean: number; max: number; ce: number }[] | null;
  /** Score with dreams − score without (an undefined score counts as 0). */
  uplift: number | null;
  /** Ids of the explanations saved to the store. */
  saved: string[];
}

export type MnistLayer = 'conv1' | 'conv2' | 'fc1' | 'logits';
export type MnistTargetSpec = { kind: 'class'; class: number } | { kind: 'unit'; layer: MnistLayer; index: number };

export interface MnistSettings {
  target: MnistTargetSpec;
  steps: number;
  lr: number;
  seed: number;
  l2: number;
  tv: number;
  jitter: number;
  every: number;
}

/** One measured MNIST dream image (28×28 row-major in [0, 1]) with what the classifier and the judge see. */
export interface MnistStep {
  step: number;
  objective: number;
  loss: number;
  image: number[];
  probs: number[];
  judgeProbs: number[];
  reconError: number;
  elapsedMs: number;
}

export type MnistSpace = 'raw' | 'latent';

export interface MnistSide {
  space: MnistSpace;
  status: 'running' | 'completed' | 'aborted' | 'failed';
  records: MnistStep[];
  error: string | null;
}

/** A pair of MNIST dreams of one target, from raw pixels and from the autoencoder's latent, run side by side. */
export interface MnistRun {
  runId: string;
  settings: MnistSettings;
  target: string;
  sides: MnistSide[];
}

/** A feature that other modules provide; absent until they are installed (the UI says so). */
export interface FeatureStatus {
  available: boolean;
  /** Why not, or what it runs on. */
  note: string;
}
