// What the readability measure records for a text. Dependency-free: the store, the API contract and the renderer
// build on it (readability/assess.ts computes it).

export interface Readability {
  words: number;
  /** The most times any one word occurs, and that word. */
  maxWordCount: number;
  mostRepeated: string | null;
  /** Bigram occurrences beyond the first of each distinct bigram. */
  repeatedBigrams: number;
  distinct1: number;
  distinct2: number;
  /** The judge's percentile (0-100) among held-out human windows of the same token length. */
  percentile: number;
  /** The judge's score (SLOR + mean log-probability per token) and its parts. */
  score: number;
  slor: number;
  logProb: number;
  /** Interior words the judge's text never uses. */
  unknownWords: string[];
  /** A line break or `<|endoftext|>` inside the text. */
  breaks: boolean;
  readable: boolean;
  /** The first rule a text that is not readable fails. */
  reason: string | null;
}
