// Whether a seeded dream's new words come from its seed's own document. A word swap that keeps the part of speech
// and fits its trigrams can still change what the sentence is about ("The sympathy of the American people" → "The
// herb of …", "the invasion was vigorously prosecuted" → "the peace was …"): read blind, such swaps were rated 2-3.
// A word the same document uses belongs to its topic ("The doctrine of the American people", 4 and 4), so a swap
// drawn from it keeps the sentence about what its document is about. Plain inserted words (insertions.ts) fit any
// topic.
import { isInsertable } from './insertions.js';
import { textWords } from './repetition.js';

/** The words (readability/repetition.ts textWords: lower-cased) a document uses. */
export function documentWords(text: string): Set<string> {
  return new Set(textWords(text));
}

/** Each document's words by its id, worked out once per document asked for (`textOf` gives a document's text). */
export function documentWordsById(textOf: (id: string) => string): (id: string) => ReadonlySet<string> {
  const known = new Map<string, ReadonlySet<string>>();
  return (id) => {
    let words = known.get(id);
    if (!words) known.set(id, (words = documentWords(textOf(id))));
    return words;
  };
}

/**
 * The words of `text` that are neither in its seed (nor in what follows the seed in its document, which a deletion
 * pulls in, or one of those cut short at the text's end), nor plain insertable words, nor words of the seed's
 * document: the ones a swap brought from elsewhere.
 */
export function wordsFromOutside(docWords: ReadonlySet<string>, seedText: string, text: string, seedNext = ''): string[] {
  const ownWords = textWords(seedText + seedNext);
  const own = new Set(ownWords);
  const words = textWords(text);
  // The last word may be one of the seed's cut short where the text's tokens end ("coppered" → "copp").
  const cut = (w: string, i: number) => i === words.length - 1 && ownWords.some((o) => o.startsWith(w));
  return words.filter((w, i) => !own.has(w) && !cut(w, i) && !isInsertable(w) && !docWords.has(w));
}
