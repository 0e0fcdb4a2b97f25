/**
 * Is a dream readable? Judged independently of the dreamed model, against people's text:
 * - the judge's percentile: where the text's n-gram score falls among held-out human windows of its token length;
 * - repetition: no word more than twice, and no word twice in a row (a model that copies from its context rewards
 *   repetition; a reader stops at it);
 * - one run of prose: no line or paragraph break and no `<|endoftext|>` inside ten or twenty tokens, and no
 *   parenthesis closed before it opens or left open;
 * - words: every word but the last (a fixed token length may end inside a word) is one the judge's text uses, and
 *   for a window cut from running text the first is exempt too.
 * The thresholds are in READABLE_RULE; test/readability.test.ts checks the rule against people's ratings. The
 * percentile cut is low because the judge's reference windows are its own corpus's held-out text, and real text
 * from elsewhere (the rated quotations) sits low among them; the other rules carry the precision.
 */
import type { ReadabilityJudge } from './judge.js';
import { repetition, textWords } from './repetition.js';
import type { Readability } from './types.js';

export type { Readability } from './types.js';

export const READABLE_RULE = {
  minPercentile: 25,
  maxWordCount: 2,
  maxUnknownWords: 0,
} as const;

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

/**
 * `window`: the text was cut from running text at a random offset (the rated file's real texts, the calibration
 * windows), so its first word may be a cut piece and is not looked up. A dream is a whole text the search wrote
 * after <|endoftext|>, so its first word must be a word.
 */
export function assessReadability(judge: ReadabilityJudge, text: string, opts: { window?: boolean } = {}): Readability {
  const p = judge.percentile(text);
  const rep = repetition(text);
  const unknownWords = judge.unknownWords(text, opts.window ?? false);
  const breaks = /[\r\n]|<\|endoftext\|>/.test(text);
  const R = READABLE_RULE;
  const doubled = doubledWord(text);
  const reason =
    rep.words === 0
      ? 'no words'
      : breaks
        ? 'a line break or <|endoftext|> inside'
        : rep.maxWordCount > R.maxWordCount
          ? `"${rep.mostRepeated}" occurs ${rep.maxWordCount} times`
          : doubled !== null
            ? `"${doubled}" twice in a row`
            : unbalancedParentheses(text)
              ? 'unbalanced parentheses'
              : unknownWords.length > R.maxUnknownWords
            ? `not a word the judge knows: ${unknownWords.slice(0, 3).join(', ')}`
            : !(p.percentile >= R.minPercentile)
              ? `judge percentile ${p.percentile.toFixed(1)} < ${R.minPercentile}`
              : null;
  return { ...rep, percentile: p.percentile, score: p.score, slor: p.slor, logProb: p.logProb, unknownWords, breaks, readable: reason === null, reason };
}
