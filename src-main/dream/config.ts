// One validated RunConfig for dreams, shared by CLI, server, UI and the stored record. Dependency-free (no tfjs,
// no Node): the contract (api/wire.ts) re-exports its types for the renderer.

export const METHODS = ['embed', 'projected', 'fluent', 'subspace', 'latent', 'beam', 'seeded'] as const;
export type Method = (typeof METHODS)[number];

/** How per-token activations become one value per sequence (objectives.ts). */
export type Reduce = 'mean' | 'max' | 'last';
export type Transform = 'none' | 'sigmoid';
/** Continuous embeddings → token ids (decode.ts). */
export type DecoderName = 'cosine' | 'dot' | 'lens';

export type TargetSpec =
  | { kind: 'neuron'; layer: number; neuron: number }
  | { kind: 'direction'; hook: string; layer: number; direction: number[]; label?: string }
  /** Weighted neurons, and (optionally) weighted SAE latents (`sae` as in the 'sae' kind): `latent − 0.5·neuron`. */
  | { kind: 'sum'; terms: { layer: number; neuron: number; weight: number }[]; latents?: { sae: string; latent: number; weight: number }[] }
  /** One latent of a sparse autoencoder in SAELens layout: `sae` is its folder, or `L<layer>.<site>` for the model folder's saes/blocks.<layer>.hook_<site>. */
  | { kind: 'sae'; sae: string; latent: number };

export const SEED_EDITS = ['part-of-speech', 'any'] as const;
export type SeedEdits = (typeof SEED_EDITS)[number];

export interface DreamConfig {
  target: TargetSpec;
  method: Method;
  reduce: Reduce;
  transform: Transform;
  /** Free tokens per sequence (a <|endoftext|> prefix is added before them). */
  seqLen: number;
  /** Sequences optimised in parallel (the population for `fluent`). */
  batch: number;
  steps: number;
  lr: number;
  seed: number;
  /** Start from this text instead of random tokens. */
  prompt?: string;
  /**
   * Without a prompt: start from random tokens, or from the model's own top-p samples (fluent from step 0);
   * 'auto' = samples for `fluent` (measured: bench/results/dream-quality.*fluent-samples.json), random otherwise.
   */
  init: 'auto' | 'random' | 'samples';
  decoder: DecoderName;
  /** Fluency penalty weight λ (the model's own cross-entropy of the decoded tokens). */
  fluency: number;
  /** Embedding-manifold distance weight (1 − cosine to the nearest token embedding). */
  manifold: number;
  /** `subspace`: latent size and basis; `latent`: which of the model's sentence autoencoders (by k). */
  k: number;
  basis: 'pca' | 'random';
  /** `latent`: 0 = the decoder writes input embeddings; ℓ ≥ 1 = it writes the residual stream entering block ℓ. */
  latentLayer: number;
  /** `latent`, input embeddings: the model reads the decoded tokens' embeddings (straight-through gradient). */
  straightThrough: boolean;
  /** `latent`: how a latent becomes the judged text: the autoencoder's argmax, or fused with the model (ae/decode.ts). */
  latentDecode: 'argmax' | 'fused';
  /** `latent`: the autoencoder folder (default: <model folder>/autoencoders/k<k>). */
  autoencoder?: string;
  /** `fluent`: λ sweep (one population member per value), candidates per member, top-k tokens, top-p restriction. */
  lambdas: number[];
  candidates: number;
  topK: number;
  topP: number;
  /** Hard-evaluate and emit a step record every `every` steps (and at the last). */
  every: number;
  /** `beam`: beams kept per λ, and next tokens tried per beam (among the model's top-p, default p 0.9). */
  beamWidth: number;
  expand: number;
  /** `beam`, `seeded`, `fluent`: ρ, subtracted from the search score per repeated word occurrence. */
  repetitionPenalty: number;
  /** `seeded`: token edits allowed away from the corpus window a dream starts from. */
  maxEdits: number;
  /**
   * `seeded`: which edits a dream may make: 'part-of-speech' swaps a word only for one of the same part of speech
   * (readability/partOfSpeech.ts), keeping the real sentence's grammar; 'any' allows any token among the model's top-p.
   */
  seedEdits: SeedEdits;
  /** `fluent`, `seeded`, `beam`: σ, weight of the readability judge's score (SLOR + log-probability) in the search score. */
  judgeWeight: number;
}

export const DEFAULT_DREAM: Omit<DreamConfig, 'target'> = {
  method: 'fluent',
  reduce: 'mean',
  transform: 'none',
  seqLen: 10,
  batch: 6,
  steps: 40,
  lr: 0.05,
  seed: 0,
  init: 'auto',
  decoder: 'cosine',
  fluency: 0,
  manifold: 0,
  k: 32,
  basis: 'pca',
  latentLayer: 0,
  straightThrough: false,
  latentDecode: 'argmax',
  lambdas: [0, 0.1, 0.3, 1],
  candidates: 12,
  topK: 24,
  topP: 0,
  every: 5,
  beamWidth: 3,
  expand: 12,
  repetitionPenalty: 0,
  maxEdits: 2,
  seedEdits: 'part-of-speech',
  judgeWeight: 0,
};

export class DreamConfigError extends Error {
  override name = 'DreamConfigError';
}

/** Fill defaults and check ranges; messages name the option to change. */
export function dreamConfig(partial: Partial<DreamConfig> & { target: TargetSpec }): DreamConfig {
  const c: DreamConfig = { ...DEFAULT_DREAM, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as DreamConfig;
  const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase());
  const int = (k: keyof DreamConfig, lo: number, hi: number) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < lo || v > hi) throw new DreamConfigError(`${flag(k)} must be an integer in ${lo}-${hi}, got ${v}`);
  };
  const num = (k: keyof DreamConfig, lo: number) => {
    const v = c[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo) throw new DreamConfigError(`${flag(k)} must be a number ≥ ${lo}, got ${v}`);
  };
  if (!(METHODS as readonly string[]).includes(c.method)) throw new DreamConfigError(`--method must be one of ${METHODS.join(', ')}, got "${c.method}"`);
  int('seqLen', 1, 1023);
  int('batch', 1, 256);
  int('steps', 1, 1_000_000);
  int('k', 1, 4096);
  int('candidates', 1, 4096);
  int('topK', 1, 50257);
  int('every', 1, 1_000_000);
  int('latentLayer', 0, 1024);
  int('beamWidth', 1, 256);
  int('expand', 1, 512);
  int('maxEdits', 0, 1024);
  num('repetitionPenalty', 0);
  num('judgeWeight', 0);
  if (c.method === 'latent' && c.latentLayer > 0 && c.manifold > 0) throw new DreamConfigError('--manifold applies to input embeddings: with --latent-layer > 0 the decoder writes a residual stream; drop --manifold');
  if (c.autoencoder === '') throw new DreamConfigError('--autoencoder is empty: give an autoencoder folder or leave it out');
  int('seed', 0, 2 ** 31 - 1);
  num('lr', 0);
  num('fluency', 0);
  num('manifold', 0);
  if (!(SEED_EDITS as readonly string[]).includes(c.seedEdits)) throw new DreamConfigError(`--seed-edits must be one of ${SEED_EDITS.join(', ')}, got "${c.seedEdits}"`);
  if (!['auto', 'random', 'samples'].includes(c.init)) throw new DreamConfigError(`--init must be auto, random or samples, got "${c.init}"`);
  if (c.topP < 0 || c.topP > 1) throw new DreamConfigError(`--top-p must be in [0, 1], got ${c.topP}`);
  if (!c.lambdas.length || c.lambdas.some((l) => !(l >= 0))) throw new DreamConfigError('--lambdas must be non-negative numbers');
  return c;
}
