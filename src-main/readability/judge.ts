/**
 * The readability judge: a Kneser-Ney trigram model over GPT-2 tokens of lower-cased text (capitals split words into
 * odd BPE pieces, and a shouted word is no less English), a lexicon of the words its text uses, and a percentile
 * table of its scores on held-out human windows. Built from the judge split only (readability/splits.ts).
 */
import type { TextTokenizer } from '../model/tokenizer.js';
import { PercentileTable, sampleWindows } from './calibration.js';
import { KneserNeyJudge } from './kneserNey.js';
import { textWords } from './repetition.js';

/** Lengths (GPT-2 tokens) the percentile table covers, and windows per length. */
export const CALIBRATION = { minLen: 3, maxLen: 40, perLength: 400, seed: 11 } as const;
/** A word is in the lexicon when the judge's text uses it at least this often. */
export const LEXICON_MIN_COUNT = 2;

export interface JudgeScores {
  tokens: number;
  /** Mean log-probability per token under the judge (nats). */
  logProb: number;
  /** SLOR: mean of log P_judge − log P_unigram per token. */
  slor: number;
  /** The judge's score: SLOR + mean log-probability, the sum of how well the order fits and how likely the words are. */
  score: number;
}

export class ReadabilityJudge {
  constructor(
    readonly ngram: KneserNeyJudge,
    readonly lexicon: ReadonlySet<string>,
    readonly table: PercentileTable,
    private readonly tok: TextTokenizer,
  ) {}

  ids(text: string): number[] {
    return this.tok.encode(text.toLowerCase());
  }

  scores(text: string): JudgeScores {
    const s = this.ngram.score(this.ids(text));
    return { tokens: s.logProbs.length, logProb: s.meanLogProb, slor: s.slor, score: s.slor + s.meanLogProb };
  }

  /** Percentile of the text's score among held-out human windows of its token length (by the dreamed model's tokenizer). */
  percentile(text: string): { percentile: number } & JudgeScores {
    const s = this.scores(text);
    return { ...s, percentile: this.table.percentile(s.score, this.tok.encode(text).length) };
  }

  /**
   * Words the judge's text never uses, except the last (a dream of a fixed token length, like a window, may end
   * inside a word) and, for a window cut from running text, the first.
   */
  unknownWords(text: string, window = false): string[] {
    const words = textWords(text);
    return words.slice(window ? 1 : 0, -1).filter((w) => !this.lexicon.has(w) && !/^\p{N}+$/u.test(w));
  }
}

/** Count the judge's documents (token ids of lower-cased text), its lexicon, and calibrate on held-out documents. */
export function buildJudge(
  tok: TextTokenizer,
  judgeDocs: readonly string[],
  heldOutDocs: readonly string[],
  log: (s: string) => void = () => undefined,
): ReadabilityJudge {
  const ngram = new KneserNeyJudge(tok.vocabSize);
  const counts = new Map<string, number>();
  judgeDocs.forEach((text, i) => {
    ngram.addDocument(tok.encode(text.toLowerCase()));
    for (const w of textWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    if ((i + 1) % 200 === 0) log(`judge: counted ${i + 1}/${judgeDocs.length} documents`);
  });
  const lexicon = new Set([...counts].filter(([, c]) => c >= LEXICON_MIN_COUNT).map(([w]) => w));
  const table = calibrate(tok, ngram, heldOutDocs);
  return new ReadabilityJudge(ngram, lexicon, table, tok);
}

/** Windows of held-out text at random offsets, decoded, scored as a dream would be: the percentile reference. */
export function calibrate(tok: TextTokenizer, ngram: KneserNeyJudge, heldOutDocs: readonly string[]): PercentileTable {
  const { minLen, maxLen, perLength, seed } = CALIBRATION;
  const windows = sampleWindows(heldOutDocs.map((d) => tok.encode(d)), minLen, maxLen, perLength, seed);
  const scores = new Map<number, number[]>();
  for (const [len, ws] of windows) {
    scores.set(
      len,
      ws.map((w) => {
        const s = ngram.score(tok.encode(tok.decode(w).toLowerCase()));
        return s.slor + s.meanLogProb;
      }),
    );
  }
  return new PercentileTable(scores);
}
