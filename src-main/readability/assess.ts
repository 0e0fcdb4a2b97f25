/**
 * Is a dream readable? Judged independently of the dreamed model, against people's text:
 * - the syntax percentile: where the syntax model's score of the text's word classes falls among held-out human
 *   windows of its token length; the cut is the worst 5 % of real text, not a quarter: a cut at the 25th percentile
 *   would reject a quarter of real text by construction, and people call nearly all real text readable;
 * - repetition: no word more than twice, and no word twice in a row (a model that copies from its context rewards
 *   repetition; a reader stops at it);
 * - one run of prose: no line or paragraph break and no `<|endoftext|>` inside ten or twenty tokens, no
 *   parenthesis closed before it opens or left open, no sentence run into the next without a space, and no broken
 *   character (U+FFFD: a token that is half of a multi-byte character);
 * - a dream starts as a sentence starts (a capital letter or a digit, after an opening quote or parenthesis if
 *   any): it is read as a text of its own, and " benches to invite the courage of the people." reads as a broken
 *   fragment however well its trigrams fit; nor does a new one start where no sentence can ("(He fairly) A
 *   document for simple electronic mail", "It T did whosoever": a capitalised function word or a lone letter, the
 *   seams `fluent` learnt to hide fragments behind on the second default model). A window cut from running text is
 *   exempt from both;
 * - an edited real sentence (a seeded dream) swaps at most two of its seed's words, word for word, or inserts one
 *   plain word or deletes one word and swaps at most one (readability/insertions.ts; the insertion or deletion
 *   counts as one, and a deletion's text runs on into its seed's document, `seedNext`): read blind, dreams
 *   with three swapped words were salad (2 of 27 rated 4 or 5, 22 rated 1 or 2), and so were edits that broke or
 *   merged a word (6 of 8 rated 1 or 2), while one swap read as English more often than not (13 of 25 rated ≥ 4)
 *   (bench/results/readability-blind-read*.json, README "Dream quality");
 * - an edited real sentence: the token model finds it at least as likely per token as the sentence it
 *   was edited from — read beside their seeds, most edits make a sentence worse, and beside the seed the judge sees
 *   some of that damage (not all: see README, "Dream quality");
 * - words: every word but the last (a fixed token length may end inside a word) is in the judge's lexicon (its
 *   text's words and a word list), and for a window cut from running text the first is exempt too; an e-mail or web
 *   address counts as one known word (and its dots as no sentence's end).
 * The token model's percentile is reported but not part of the rule: real text from outside the judge's corpora
 * (the rated quotations) sits low among its held-out windows because its words are rare there, while the syntax
 * model scores the shape of the sentence. The thresholds are in READABLE_RULE; test/readability.test.ts checks the
 * rule against people's ratings.
 */
import type { ReadabilityJudge } from './judge.js';
import { repetition, textWords } from './repetition.js';
import { alignWithDeletion, alignWithInsertion } from './insertions.js';
import { textPieces } from './wordClasses.js';
import type { Readability } from './types.js';

export type { Readability } from './types.js';

export const READABLE_RULE = {
  minPercentile: 5,
  maxWordCount: 2,
  maxUnknownWords: 0,
  /** Words of its seed a seeded dream may swap. */
  maxSwappedWords: 2,
} as const;

/**
 * Words of `text` that differ from `seed`'s, position by position, or, when the text has one plain word inserted
 * (readability/insertions.ts), that word and the swaps beside it, or, given the text that follows the seed in its
 * document (`seedNext`), one word deleted and the swaps beside it; null when the two do not line up any way.
 */
export function swappedWords(seed: string, text: string, seedNext?: string): number | null {
  const a = textPieces(seed);
  const b = textPieces(text);
  // An insertion that pushed the seed's last word out leaves as many pieces: every reading counts, the fewest edits win.
  const positional = a.length === b.length ? a.reduce((n, w, i) => n + (w === b[i] ? 0 : 1), 0) : null;
  const inserted = alignWithInsertion(a, b);
  const deleted = seedNext ? alignWithDeletion(a, textPieces(seed + seedNext), b) : null;
  const counts = [positional, inserted && 1 + inserted.swaps.length, deleted && 1 + deleted.swaps.length].filter((n): n is number => n !== null);
  return counts.length ? Math.min(...counts) : null;
}

/** A parenthesis closed before it is opened, or left open. */
export function unbalancedParentheses(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return true;
  }
  return depth > 0;
}

/** The first word written twice in a row ("such such"), or null. */
export function doubledWord(text: string): string | null {
  const w = textWords(text);
  for (let i = 1; i < w.length; i++) if (w[i] === w[i - 1]) return w[i];
  return null;
}

/** An e-mail or web address: a name of its own kind, neither a sentence run into the next nor a string of unknown words. */
const ADDRESS = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+|\b(?:https?:\/\/|www\.)[^\s<>"]+/gu;

/** `text` with each e-mail or web address written as the one word "address": what the run-on and lexicon checks read. */
export function maskAddresses(text: string): string {
  return text.replace(ADDRESS, 'address');
}

/** A sentence run into the next with no space ("the people.5", "it.The"): two lower-case letters, . ! or ?, then a letter or digit. */
export function runOnSentence(text: string): boolean {
  return /\p{Ll}{2}[.!?]["'”’)]?[\p{L}\p{N}]/u.test(text);
}

/** Function words that start a sentence with a capital but are written lower-case inside one. */
const FUNCTION_WORDS = new Set(['a', 'an', 'the', 'and', 'but', 'or', 'nor', 'of', 'to', 'in', 'for', 'with', 'on', 'at', 'by', 'from', 'as', 'is', 'was', 'are', 'were', 'be', 'been', 'it', 'he', 'she', 'we', 'they', 'you', 'this', 'that', 'these', 'those', 'so', 'if', 'not', 'no']);

/**
 * The first word of a text that reads as a fragment seam: a capitalised function word where no sentence can start
 * ("(He fairly) A document", "It T did": not after . ! ? : ; a dash or an opening quote), or a lone letter that is
 * not "a", "I", "O" or an initial with its period ("(N freedom)", "u fl mail"). Null when there is none.
 */
export function strayCapital(text: string): string | null {
  const words = text.trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const opened = /^["'“‘(\[]/.test(words[i]);
    const bare = words[i].replace(/^["'“‘(\[]+/, '').replace(/[,;:!?"'”’)\]]+$/, '');
    if (/^\p{L}$/u.test(bare) && !/^[aAIO]$/.test(bare)) return words[i];
    if (i === 0 || opened || !/^\p{Lu}/u.test(bare)) continue;
    const prev = words[i - 1];
    const mayStart = /[.!?:;]["'”’)\]]*$/.test(prev) || /^[-—–]+$/.test(prev);
    if (!mayStart && FUNCTION_WORDS.has(bare.toLowerCase())) return words[i];
  }
  return null;
}

/** Does the text start as a sentence starts: a capital or a digit, after an opening quote or parenthesis if any? */
export function startsAsSentence(text: string): boolean {
  return /^\s*(["'“‘(\[]\s?){0,2}[\p{Lu}\p{N}]/u.test(text);
}

/**
 * The rule's parts that need no judge: starts as a sentence, no doubled word, no sentence run into the next, balanced
 * parentheses, no fragment seam (strayCapital). A search can keep its candidates inside them before it spends a forward pass on one.
 */
export function keepsSentenceForm(text: string): boolean {
  return startsAsSentence(text) && doubledWord(text) === null && !runOnSentence(text) && !unbalancedParentheses(text) && strayCapital(text) === null;
}

/**
 * `window`: the text was cut from running text at a random offset (the rated file's real texts, the calibration
 * windows), so its first word may be a cut piece and is not looked up. A dream is a whole text the search wrote
 * after <|endoftext|>, so its first word must be a word.
 */
export function assessReadability(judge: ReadabilityJudge, text: string, opts: { window?: boolean; seedText?: string; seedNext?: string } = {}): Readability {
  const p = judge.percentile(text);
  const seedLogProb = opts.seedText === undefined ? null : judge.scores(opts.seedText).logProb;
  const rep = repetition(text);
  // An address is one word to a reader ("<raffi@linwin.com>", rated 4.5 read blind), however its parts look.
  const plain = maskAddresses(text);
  const unknownWords = judge.unknownWords(plain, opts.window ?? false);
  const breaks = /[\r\n]|<\|endoftext\|>/.test(text);
  const R = READABLE_RULE;
  const doubled = doubledWord(text);
  const stray = opts.window ? null : strayCapital(text);
  const swapped = opts.seedText === undefined ? 0 : swappedWords(opts.seedText, text, opts.seedNext);
  // The rules in order; the first that fails is the reason given.
  const checks: [boolean, () => string][] = [
    [rep.words === 0, () => 'no words'],
    [breaks, () => 'a line break or <|endoftext|> inside'],
    [text.includes('\uFFFD'), () => 'a broken character (a token that is half of a multi-byte character)'],
    [rep.maxWordCount > R.maxWordCount, () => `"${rep.mostRepeated}" occurs ${rep.maxWordCount} times`],
    [doubled !== null, () => `"${doubled}" twice in a row`],
    [unbalancedParentheses(text), () => 'unbalanced parentheses'],
    [runOnSentence(plain), () => 'a sentence run into the next without a space'],
    [!opts.window && !startsAsSentence(text), () => 'does not start as a sentence (a capital letter or a digit)'],
    [!opts.window && stray !== null, () => `"${stray}" reads as a seam between fragments (a capital where no sentence starts, or a lone letter)`],
    [unknownWords.length > R.maxUnknownWords, () => `not a word the judge knows: ${unknownWords.slice(0, 3).join(', ')}`],
    [!(p.syntaxPercentile >= R.minPercentile), () => `syntax percentile ${p.syntaxPercentile.toFixed(1)} < ${R.minPercentile}`],
    [swapped === null, () => 'its words do not line up with its seed\'s (a word broken or merged)'],
    [swapped !== null && swapped > R.maxSwappedWords, () => `${swapped} of its seed's words swapped (at most ${R.maxSwappedWords})`],
    [seedLogProb !== null && !(p.logProb >= seedLogProb), () => `less likely than its seed (judge log-probability ${p.logProb.toFixed(2)} < ${seedLogProb!.toFixed(2)} per token)`],
  ];
  const failed = checks.find(([fails]) => fails);
  const reason = failed ? failed[1]() : null;
  return {
    ...rep,
    percentile: p.syntaxPercentile,
    tokenPercentile: p.percentile,
    score: p.score,
    slor: p.slor,
    logProb: p.logProb,
    unknownWords,
    breaks,
    ...(seedLogProb === null ? {} : { seedLogProb }),
    readable: reason === null,
    reason,
  };
}
