/**
 * Plain data that crosses the contract (IPC structured clone, HTTP JSON, SSE). No runtime imports and no classes:
 * this file is bundled into the sandboxed preload and the browser renderer, like contract.ts.
 *
 * Several types are the engine's own (StepRecord, DreamResult, DreamConfig, the store's run rows), imported as
 * types only from dependency-free engine modules (dream/config.ts, dream/records.ts, mnist/spec.ts,
 * store/types.ts: no tfjs, no Node), so they type-check under the renderer's tsconfig and are erased from every
 * bundle. Where the wire differs (the decoder arrives as any string and is validated by engine/validate.ts),
 * the type is derived from the engine's rather than restated.
 */
import type { SettingField, TargetSpec, WireDreamConfig } from '../dream/settings/types.js';
import type { Dream, DreamResult, StepRecord } from '../dream/records.js';
import type { LayerName, MnistDreamConfig, MnistStepRecord, MnistTarget, Space } from '../mnist/spec.js';
import type { DreamRunDetail, DreamRunSummary, NeuronStatsView, RunStatus as StoreRunStatus } from '../store/types.js';
import type { SweptNeuron } from '../sweep/types.js';

// ---------------------------------------------------------------------------------------------- sweeps

export type { SweptNeuron } from '../sweep/types.js';

/** A layer of the neuron browser: its swept neurons, and a note when there are none (why, and what to run). */
export interface SweptLayer {
  layer: number;
  neurons: SweptNeuron[];
  note: string | null;
}

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
  /** SAEs in the model folder's saes/ (sae/list.ts), to dream for their latents. */
  saes: SaeChoice[];
}

export interface SaeChoice {
  /** How a target names it (`sae` of a latent): `L2.resid_pre`, or its folder. */
  where: string;
  dir: string;
  hook: string;
  dSae: number;
  architecture: string;
  /** Set when its cfg.json could not be read. */
  error?: string;
}

export interface ModelChoice {
  spec: string;
  label: string;
  kind: 'default' | 'recent';
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

/** A neuron's corpus statistics as the page shows them (the store's NeuronStatsView without sample details). */
export type NeuronStats = Pick<NeuronStatsView, 'count' | 'mean' | 'std' | 'min' | 'max' | 'positive'>;

export interface LensToken {
  id: number;
  token: string;
  /** Direct effect on the logit of a unit of this neuron's output (its row of c_proj through W_U). */
  logit: number;
}

export interface NeuronPage {
  /** An SAE latent's page: its hook's layer, and the latent in `neuron`. */
  layer: number;
  neuron: number;
  /** Hook read: `blocks.L.mlp.hook_post`, or the SAE's hook. */
  hook: string;
  /** The SAE (as the request named it) whose latent this is; null for an MLP neuron. */
  sae: string | null;
  /** Corpus statistics; null when no scan covers this model yet (see `scan`). */
  stats: NeuronStats | null;
  quantiles: { q: number; value: number }[];
  histogram: { edges: number[]; counts: number[] } | null;
  topExamples: NeuronExample[];
  /** Logit lens of the neuron's output weights (a latent's decoder row): the tokens it promotes and suppresses most. */
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

export type WireTarget = TargetSpec;

/** A method's name (dream/methods/registry.ts lists them; `dreams.defaults` says which this engine has). */
export type DreamMethodName = string;

/** One dream setting as the form draws it: kind, range, default, help, and the methods that read it. */
export type DreamSettingField = SettingField;

/** The dream configuration as it crosses the contract (checked by engine/validate.ts against every declaration). */
export type DreamSettings = WireDreamConfig;

/** One hard-evaluated dream (decoded, re-tokenised, re-measured). */
export type DreamSample = Dream;

export type DreamStep = StepRecord;

export interface DreamOutcome extends Omit<DreamResult, 'config'> {
  config: DreamSettings;
}

export type RunStatus = StoreRunStatus;

export type RunSummary = DreamRunSummary;

export interface RunDetail extends Omit<DreamRunDetail, 'config' | 'result'> {
  config: DreamSettings;
  result: DreamOutcome | null;
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

export type MnistLayer = LayerName;
export type MnistTargetSpec = MnistTarget;

/** The MNIST dream config as it crosses the contract: one target, both spaces run side by side. */
export type MnistSettings = Omit<MnistDreamConfig, 'space'>;

/** One measured MNIST dream image (28×28 row-major in [0, 1]) with what the classifier and the judge see. */
export type MnistStep = MnistStepRecord;

export type MnistSpace = Space;

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
