// What a dream run records: hard evaluations, step records and the result. Dependency-free (no tfjs, no Node):
// the store's types and the contract (api/wire.ts) build on these.
import type { Readability } from '../readability/types.js';
import type { WireDreamConfig as DreamConfig } from './settings/types.js';

export interface HardEval {
  text: string;
  ids: number[];
  tokens: string[];
  /** The target's activation at each token of `ids`. */
  perToken: number[];
  max: number;
  mean: number;
  /** The objective's reduction (mean, max or last) of perToken. */
  value: number;
  /** Mean next-token cross-entropy of the text in nats (every token scored, after the prefix). */
  ce: number;
}

/** Where a seeded dream started: the corpus window, its hard value, and how many tokens the search changed. */
export interface DreamOrigin {
  seedText: string;
  seedValue: number;
  seedDoc: string;
  edits: number;
  /** The text that follows the seed in its document, when the search may delete (a deletion pulls it in). */
  seedNext?: string;
}

/** False only for a corpus-seeded dream no edit changed: corpus text, not a dream. */
export const isEdited = (d: Dream): boolean => !d.origin || d.origin.edits >= 1;

/** Which seed window a dream was edited from (its document and text; two documents may hold the same text), or null. */
export const seedOf = (d: Dream): string | null => (d.origin ? `${d.origin.seedDoc} ${d.origin.seedText}` : null);

/** Edited and more activating than its seed (a dream with no seed passes): a seeded dream counts only so. */
export const beatsSeed = (d: Dream): boolean => !d.origin || (d.origin.edits >= 1 && d.value > d.origin.seedValue);

export interface Dream extends HardEval {
  /** e.g. `λ=0.3` for fluent, or the batch row. */
  label: string;
  /** Judged independently of the dreamed model (readability/assess.ts), when a judge is loaded. */
  readability?: Readability;
  /** `seeded`: the corpus window it was edited from. */
  origin?: DreamOrigin;
}

export interface StepRecord {
  step: number;
  /** Soft objective (mean over the batch) — what the optimiser sees. */
  soft: number;
  /** Every sequence of the batch, hard-evaluated. */
  dreams: Dream[];
  /** Index into dreams of the highest hard value. */
  best: number;
  forwardEquivalents: number;
  elapsedMs: number;
}

export interface DreamResult {
  config: DreamConfig;
  method: string;
  target: string;
  stopped: 'completed' | 'aborted';
  steps: number;
  /** The best hard dream seen at any recorded step, and the best per label (the λ frontier for fluent). */
  best: Dream | null;
  bestPerLabel: Dream[];
  initial: Dream[];
  /** With a judge: the most activating readable dream seen, and the Pareto set of activation against readability. */
  bestReadable?: Dream | null;
  pareto?: Dream[];
  /**
   * With a judge and seeds: of the readable dreams above their seeds, the Pareto set of each seed and edit count,
   * together (loop.ts paretoByEdits): what the CLI picks the dreams to show from.
   */
  paretoByEdits?: Dream[];
  forwardEquivalents: number;
  elapsedMs: number;
}
