// Repetition within one text, on its words (letters and digits, lower-cased; an apostrophe suffix stays on its
// word): the failure that a model which copies from its context rewards and a reader notices at once.
import type { Repetition } from './types.js';

export type { Repetition } from './types.js';

export function textWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu) ?? []).map((w) => w.replace('’', "'"));
}

export function repetition(text: string): Repetition {
  const words = textWords(text);
  const counts = new Map<string, number>();
  let maxWordCount = 0;
  let mostRepeated: string | null = null;
  for (const w of words) {
    const c = (counts.get(w) ?? 0) + 1;
    counts.set(w, c);
    if (c > maxWordCount) {
      maxWordCount = c;
      mostRepeated = w;
    }
  }
  const bigrams = words.slice(1).map((w, i) => `${words[i]} ${w}`);
  const distinctBigrams = new Set(bigrams).size;
  return {
    words: words.length,
    maxWordCount,
    mostRepeated,
    repeatedBigrams: bigrams.length - distinctBigrams,
    distinct1: words.length ? counts.size / words.length : 1,
    distinct2: bigrams.length ? distinctBigrams / bigrams.length : 1,
  };
}
