// Diversity of a generated text, for the model card: a model that loops ("the the the", "of the state of the
// state") scores a low distinct-2 and a high repeat count, however plausible each token is on its own.

/** Lower-cased words (letters, digits, apostrophes inside a word); punctuation is not a word. */
export function sampleWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
}

/** Distinct n-grams ÷ n-grams (1 for a text with no repeated n-gram); NaN when the text has fewer than n words. */
export function distinctN(words: readonly string[], n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`distinctN: n must be a positive integer, got ${n}`);
  const total = words.length - n + 1;
  if (total <= 0) return NaN;
  const seen = new Set<string>();
  for (let i = 0; i < total; i++) seen.add(words.slice(i, i + n).join('\u0000'));
  return seen.size / total;
}

/** The largest number of times one word occurs, and which word (0 and null for no words). */
export function maxWordRepeat(words: readonly string[]): { count: number; word: string | null } {
  const counts = new Map<string, number>();
  let best: { count: number; word: string | null } = { count: 0, word: null };
  for (const w of words) {
    const c = (counts.get(w) ?? 0) + 1;
    counts.set(w, c);
    if (c > best.count) best = { count: c, word: w };
  }
  return best;
}
