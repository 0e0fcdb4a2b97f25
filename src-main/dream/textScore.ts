// The discrete searches' objective (beam, seeded edits, fluent's ranking) composed like the gradient methods' one:
// terms read a measured text (HardEval) — its activation, the model's cross-entropy of it, its repeated words, the
// readability judge's score — and a weighted sum of terms is what a search maximises.
import { repetition } from '../readability/repetition.js';
import type { HardEval } from './hard.js';

export interface TextTerm {
  description: string;
  /** Whether the term reads the text itself (the hot comparisons skip terms weighted 0 that would). */
  readsText: boolean;
  value(e: HardEval): number;
}

/** Word occurrences beyond each word's first (0 for a text without repeats). */
export function repeats(text: string): number {
  const r = repetition(text);
  return r.words - Math.round(r.distinct1 * r.words);
}

export const activationTerm: TextTerm = { description: 'activation', readsText: false, value: (e) => e.value };
export const fluencyTerm: TextTerm = { description: 'fluency CE', readsText: false, value: (e) => e.ce };
export const repetitionTerm: TextTerm = { description: 'repeated words', readsText: true, value: (e) => repeats(e.text) };
export function judgeTerm(score: (text: string) => number): TextTerm {
  return { description: 'readability judge', readsText: true, value: (e) => score(e.text) };
}

/** Σ weight·term; −∞ for a text whose activation or cross-entropy could not be measured. Zero weights cost nothing. */
export function weightedTextScore(terms: { term: TextTerm; weight: number }[]): (e: HardEval) => number {
  const live = terms.filter((t) => t.weight !== 0);
  return (e) => {
    if (!Number.isFinite(e.value) || !Number.isFinite(e.ce)) return -Infinity;
    let s = 0;
    for (const t of live) s += t.weight * t.term.value(e);
    return s;
  };
}
