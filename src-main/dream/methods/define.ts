// What a dreaming method is, as the engine sees it: its own settings (declared in its file, beside this
// definition), the shared settings it reads, cross-setting rules, and how it builds a DreamMethod. A method is one
// file in this folder and one line in registry.ts; nothing else names it.
import type { z } from 'zod';
import type { DreamConfig } from '../config.js';
import type { DreamContext } from '../loop.js';
import type { JudgeTerm } from '../beam.js';
import type { DreamMethod } from '../method.js';
import type { Objective, Target } from '../objectives.js';
import type { SharedSettingName } from '../settings/common.js';

export interface MethodInputs<C = DreamConfig> {
  ctx: DreamContext;
  target: Target;
  /** The target's objective under the run's reduce and transform. */
  objective: Objective;
  cfg: C;
  /** `--prompt`, tokenised (never empty). */
  prompt?: number[];
  /**
   * Starting tokens, one row per dream: the prompt, else the model's own top-p samples (`--init samples`, or `auto`
   * for a method that starts from samples by default), else random tokens; and what sampling cost (forward passes).
   */
  startTokens(rows: number): Promise<{ tokens: number[][]; cost: number }>;
  /** σ·judge score, when `--judge-weight` > 0. */
  judgeTerm?: JudgeTerm;
}

export interface MethodDefinition<Own extends z.ZodRawShape = z.ZodRawShape> {
  /** One line for `--help` and the form. */
  summary: string;
  /** Position in lists (the method picker, `--method`'s choices). */
  order: number;
  /** The shared settings (settings/common.ts) this method reads; its own are the `settings` export of its file. */
  uses: readonly SharedSettingName[];
  /** `--init auto` starts this method from the model's own samples rather than random tokens. */
  samplesByDefault?: boolean;
  /** A rule across settings that ranges cannot say: the message naming what to change, or nothing. */
  check?(cfg: DreamConfig & z.output<z.ZodObject<Own>>, name: (key: string) => string): string | undefined;
  /** Checks against the model and the target, before any file is read (the target may not be built yet: then after). */
  checkTarget?(ctx: DreamContext, cfg: DreamConfig & z.output<z.ZodObject<Own>>, target: Target): void;
  build(inputs: MethodInputs<DreamConfig & z.output<z.ZodObject<Own>>>): DreamMethod | Promise<DreamMethod>;
}

/** Identity with inference: the method's own settings type reaches `build` and `check`. */
export function defineMethod<Own extends z.ZodRawShape>(_settings: Own, def: MethodDefinition<Own>): MethodDefinition<Own> {
  return def;
}
