// What the readability measure records for a text. Dependency-free: the store, the API contract and the renderer
// build on it (readability/assess.ts computes it).

/** Repetition within one text, on its words (readability/repetition.ts). */
export interface Repetition {
  words: number;
  /** The most times any one word occurs, and that word (the first to reach the count). */
  maxWordCount: number;
  mostRepeated: string | null;
  /** Bigram occurrences beyond the first of each distinct bigram. */
  repeatedBigrams: number;
  /** Distinct words / words, distinct bigrams / bigrams (1 when there are none). */
  distinct1: number;
  distinct2: number;
}

export interface Readability extends Repetition {
  /**
   * The rule's percentile (0-100): the syntax model's score (word classes, readability/wordClasses.ts) among held-out
   * human windows of the same token length.
   */
  percentile: number;
  /** The token model's percentile among the same windows (reported; not in the rule: rare words pull real text down). */
  tokenPercentile: number;
  /** The token model's score (SLOR + mean log-probability per token) and its parts. */
  score: number;
  slor: number;
  logProb: number;
  /** Interior words the judge's text never uses. */
  unknownWords: string[];
  /** A line break or `<|endoftext|>` inside the text. */
  breaks: boolean;
  /** An edited dream: the token model's mean log-probability of the seed it was edited from (`logProb` must reach it). */
  seedLogProb?: number;
  readable: boolean;
  /** The first rule a text that is not readable fails. */
  reason: string | null;
}
