// Whether a seeded dream's edits sit in word sequences real text uses. An edit that fits its left context (the
// model's top-p) and keeps the part of speech can still read as strained ("I grabbed her arm" → "I started her
// arm", "a moral in all this" → "a peculiar in all this"): in blind reads those edits left every trigram around them
// unseen in the judge's text, while the edits readers accepted kept at least one ("These ideals are" → "These powers
// are"). Counted on the judge's token trigrams (lower-cased GPT-2 tokens), never on held-out or seed-pool text.
import type { ReadabilityJudge } from './judge.js';

/** Token positions of `b` that differ from `a`: position by position when equally long, else the span between their common prefix and suffix. */
export function changedPositions(a: readonly number[], b: readonly number[]): number[] {
  if (a.length === b.length) return b.flatMap((x, i) => (x === a[i] ? [] : [i]));
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return Array.from({ length: b.length - s - p }, (_, i) => p + i);
}

/**
 * True when every token the edits changed is inside at least one trigram of `text` that the judge's text holds (of
 * the up to three trigrams that contain it). A change with fewer than two trigrams around it (at a text's first or
 * last token) passes: one unseen trigram is what any rare but fitting word makes there.
 */
export function editsAttested(judge: Pick<ReadabilityJudge, 'ids' | 'ngram'>, seedText: string, text: string): boolean {
  const a = judge.ids(seedText);
  const b = judge.ids(text);
  for (const k of changedPositions(a, b)) {
    const ends = [k, k + 1, k + 2].filter((j) => j >= 2 && j < b.length);
    if (ends.length >= 2 && !ends.some((j) => judge.ngram.trigramCount(b[j - 2], b[j - 1], b[j]) > 0)) return false;
  }
  return true;
}
