import type { HardEval } from './hard.js';
import type { DreamOrigin } from './records.js';

// The contract every dreaming method implements; the loop in loop.ts knows nothing else about them.

export interface MethodStep {
  /** The soft objective (mean over the batch) — logged, never trusted on its own. */
  soft: number;
  /** The fluency term's cross-entropy when it was computed (NaN otherwise). */
  fluencyCE: number;
  /** Compute spent so far, in forward-pass equivalents (forward+backward ≈ 3). */
  forwardEquivalents: number;
}

export interface DreamMethod {
  name: string;
  step(step: number): Promise<MethodStep>;
  /** The token sequences the current state stands for, to be hard-evaluated. */
  current(): Promise<number[][]>;
  /** Extra per-sequence labels (e.g. λ for `fluent`), aligned with current(). */
  labels?(): string[];
  /** What the i-th sequence maximises, if not its hard value (fluent: value − λ_i·CE); ranks the per-label bests. */
  rank?(e: HardEval, i: number): number;
  /** `seeded`: where each current sequence started, aligned with current(). */
  origins?(): Promise<(DreamOrigin | undefined)[]>;
  dispose(): void;
}
