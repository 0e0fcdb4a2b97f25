// The protocol's fixed choices: activations shown on a 0-10 integer scale, and which records explain and which
// score. Top records alternate between the two halves (ranks 0, 2, 4, … explain; 1, 3, 5, … score) so both
// halves span the same range of strengths and no scored record was seen by the explainer.
import type { ActivationRecord, NeuronRecords } from './types.js';

/** Integer 0-10: `10 · a / max`, rounded; negatives and a non-positive max give 0, values above max give 10. */
export function scaleActivation(a: number, max: number): number {
  if (!(max > 0) || !(a > 0)) return 0;
  return Math.min(10, Math.round((10 * a) / max));
}

export function scaleRecord(r: ActivationRecord, max: number): number[] {
  return r.activations.map((a) => scaleActivation(a, max));
}

export interface SplitOptions {
  /** Top records given to the explainer (from the even ranks). Default 10. */
  explain?: number;
  /** Top records held out for scoring (from the odd ranks). Default 5. */
  scoreTop?: number;
  /** Random records for scoring. Default 5. */
  scoreRandom?: number;
}

export const DEFAULT_SPLIT: Required<SplitOptions> = { explain: 10, scoreTop: 5, scoreRandom: 5 };

export interface RecordSplit {
  explain: ActivationRecord[];
  scoreTop: ActivationRecord[];
  scoreRandom: ActivationRecord[];
}

/** The largest activation of a record (−Infinity when empty). */
export function recordMax(r: ActivationRecord): number {
  return r.activations.reduce((m, a) => (a > m ? a : m), -Infinity);
}

/** Split a neuron's records into explaining and scoring sets; top records are ranked by their max first. */
export function splitRecords(nr: NeuronRecords, opts: SplitOptions = {}): RecordSplit {
  const o = { ...DEFAULT_SPLIT, ...opts };
  // A stable sort keeps the caller's order among equal maxima.
  const ranked = nr.top.map((r, i) => ({ r, i, m: recordMax(r) })).sort((a, b) => b.m - a.m || a.i - b.i).map((x) => x.r);
  const even = ranked.filter((_, i) => i % 2 === 0);
  const odd = ranked.filter((_, i) => i % 2 === 1);
  return { explain: even.slice(0, o.explain), scoreTop: odd.slice(0, o.scoreTop), scoreRandom: nr.random.slice(0, o.scoreRandom) };
}

/** A token as shown in prompts and tables: whitespace other than spaces made visible, nothing else changed. */
export function showToken(t: string): string {
  return t.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
}

/** A record's text with its strongest tokens marked, for one-line displays (quote it to show whitespace): `the ⟦cat⟧ sat`. */
export function markRecord(r: ActivationRecord, max: number, threshold = 5): string {
  return r.tokens.map((t, i) => (scaleActivation(r.activations[i], max) >= threshold ? `⟦${t}⟧` : t)).join('');
}
