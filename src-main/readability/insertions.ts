// One plain word inserted into a real sentence: readers let "It may not be assumed" or "I just opened the door" pass
// more often than a word swapped for another (bench/results/readability-blind-read.insert-delete-probe.v2.budget-1500.json).
// A seeded dream's text stays a fixed number of tokens, so an insertion pushes its seed's last token out and a
// deletion pulls in the next token of its seed's document; these helpers line such a text up with its seed, word by
// word and token by token.

/**
 * The words `seeded --insert-words plain` may insert: adverbs, qualifiers, determiners and a few adjectives that fit
 * almost anywhere a reader expects a modifier, as in the probe that found the lever (bench/probe-insert-delete.ts,
 * less its two proper adjectives, whose picks read as strained: "The American United States").
 */
export const INSERTABLE_WORDS: readonly string[] = [
  'also', 'still', 'only', 'even', 'now', 'then', 'indeed', 'thus', 'therefore', 'certainly', 'very', 'not', 'never', 'always',
  'often', 'already', 'really', 'just', 'all', 'the', 'a', 'new', 'great', 'most', 'more', 'first', 'other', 'own',
];

const INSERTABLE = new Set(INSERTABLE_WORDS);

/**
 * Inserted words that modify a noun: a determiner or an adjective stands before a noun or another adjective, never
 * before a determiner, a pronoun, a number or a name. Read blind, those were the insertions rated 2 (" Besides other
 * its historical significance", " About the nine o'clock", " This approach requires that: (1) more each",
 * bench/results/readability-blind-read.insert-words.v2.budget-1500.json).
 */
export const PRENOMINAL_INSERTABLE: ReadonlySet<string> = new Set(['the', 'a', 'all', 'new', 'great', 'most', 'more', 'first', 'other', 'own']);

/** Inserted words that qualify an adjective or an adverb ("very"), and stand only before one. */
export const QUALIFIER_INSERTABLE: ReadonlySet<string> = new Set(['very']);

/** A piece a seeded dream may have gained by insertion (lower-case, as the words are inserted after a space). */
export const isInsertable = (piece: string): boolean => INSERTABLE.has(piece);

export interface InsertionAlignment {
  /** Index in the text's pieces of the inserted word. */
  inserted: number;
  /** Pairs [seed piece, text piece] that differ besides the insertion: swaps. */
  swaps: [number, number][];
}

/**
 * `text`'s pieces as `seed`'s with one insertable word inserted after the first piece and the seed's tail cut where
 * the text ends (its last piece may be the seed's cut short, or gone), and at most `maxSwaps` other pieces swapped
 * (by default one: with the insertion, the rule's two words): the alignment with the fewest swaps, or null when
 * there is none, as for a word broken in two. Pieces: readability/wordClasses.ts textPieces (words and single
 * punctuation marks).
 */
export function alignWithInsertion(seed: readonly string[], text: readonly string[], maxSwaps = 1): InsertionAlignment | null {
  let best: InsertionAlignment | null = null;
  for (let at = 1; at < text.length; at++) {
    if (!isInsertable(text[at])) continue;
    const swaps: [number, number][] = [];
    let fits = true;
    for (let j = 0; j < text.length && fits; j++) {
      if (j === at) continue;
      const i = j < at ? j : j - 1;
      if (i >= seed.length) {
        fits = false;
        break;
      }
      if (text[j] === seed[i]) continue;
      // The text's last piece may be its seed piece cut short (a word of several tokens loses its last).
      if (j === text.length - 1 && seed[i].startsWith(text[j])) continue;
      swaps.push([i, j]);
    }
    // What the text leaves of the seed's tail is at most its last piece (the token the insertion pushed out).
    const used = text.length - 1;
    if (!fits || seed.length - used > 1 || swaps.length > maxSwaps) continue;
    if (!best || swaps.length < best.swaps.length) best = { inserted: at, swaps };
  }
  return best;
}

/**
 * Token edits from `origin` to `ids` when a search may insert as well as swap (the text keeping its length, so an
 * insertion pushes the origin's last tokens out): the edit distance from some prefix of `origin`, at most
 * `maxDropped` tokens shorter, to `ids`. Swaps alone give at most their count (as hamming), one insertion 1.
 */
export function tokenEdits(origin: readonly number[], ids: readonly number[], maxDropped = 2): number {
  const n = ids.length;
  // prev[j]: edit distance between origin[0..i) and ids[0..j), row by row over i.
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let best = Infinity;
  for (let i = 1; i <= origin.length; i++) {
    const cur = new Array<number>(n + 1);
    cur[0] = i;
    for (let j = 1; j <= n; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (origin[i - 1] === ids[j - 1] ? 0 : 1));
    prev = cur;
    if (i >= origin.length - maxDropped) best = Math.min(best, cur[n]);
  }
  return origin.length === 0 ? n : best;
}

export interface DeletionAlignment {
  /** Index in the seed's pieces of the deleted word. */
  deleted: number;
  /** Pairs [index in the seed's pieces run on, text piece] that differ besides the deletion: swaps. */
  swaps: [number, number][];
}

/**
 * `text`'s pieces as `seed`'s with one word after the first piece deleted, the text running on into the words that
 * follow the seed in its document (`runOn`: the pieces of the seed's text and its document's next tokens, which a
 * deletion pulls in as the text keeps its length), cut where the text ends (its last piece may be cut short), with at
 * most `maxSwaps` other pieces swapped: the alignment with the fewest swaps, or null.
 */
export function alignWithDeletion(seed: readonly string[], runOn: readonly string[], text: readonly string[], maxSwaps = 1): DeletionAlignment | null {
  let best: DeletionAlignment | null = null;
  if (text.length + 1 > runOn.length) return null;
  for (let del = 1; del < seed.length; del++) {
    // A whole word of the seed (its last piece may be a word cut short that the run-on text completes).
    if (runOn[del] !== seed[del] || !/^[\p{L}\p{N}]/u.test(seed[del])) continue;
    const swaps: [number, number][] = [];
    for (let j = 0; j < text.length; j++) {
      const i = j < del ? j : j + 1;
      if (text[j] === runOn[i] || (j === text.length - 1 && runOn[i].startsWith(text[j]))) continue;
      swaps.push([i, j]);
    }
    if (swaps.length > maxSwaps) continue;
    if (!best || swaps.length < best.swaps.length) best = { deleted: del, swaps };
  }
  return best;
}
