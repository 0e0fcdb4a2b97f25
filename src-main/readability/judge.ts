/**
 * The readability judge, built from the judge split only (readability/splits.ts):
 * - a Kneser-Ney trigram model over GPT-2 tokens of lower-cased text (capitals split words into odd BPE pieces, and
 *   a shouted word is no less English): how likely the words are, and in this order (SLOR);
 * - a syntax model: a Kneser-Ney trigram model over word classes (readability/wordClasses.ts), which scores the
 *   order of function words, punctuation and word shapes without knowing the rarer words, so real text from outside
 *   the judge's corpora is not mistaken for salad because its words are rare;
 * - a lexicon: the words its text uses, and a word list;
 * - for each model, a percentile table of its scores on held-out human windows.
 */
import type { TextTokenizer } from '../model/tokenizer.js';
import { PercentileTable, sampleWindows } from './calibration.js';
import { KneserNeyJudge } from './kneserNey.js';
import { textWords } from './repetition.js';
import { WordClasses } from './wordClasses.js';

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

/** The syntax model: word classes, its trigram model over them, and its percentile table. */
export interface SyntaxModel {
  classes: WordClasses;
  ngram: KneserNeyJudge;
  table: PercentileTable;
}

/** A model's score of a sequence: SLOR + mean log-probability (the same form for tokens and for classes). */
function ngramScore(ngram: KneserNeyJudge, ids: number[]): number {
  const s = ngram.score(ids);
  return s.slor + s.meanLogProb;
}

export class ReadabilityJudge {
  constructor(
    readonly ngram: KneserNeyJudge,
    readonly lexicon: ReadonlySet<string>,
    readonly table: PercentileTable,
    private readonly tok: TextTokenizer,
    readonly syntax: SyntaxModel,
  ) {}

  ids(text: string): number[] {
    return this.tok.encode(text.toLowerCase());
  }

  scores(text: string): JudgeScores {
    const s = this.ngram.score(this.ids(text));
    return { tokens: s.logProbs.length, logProb: s.meanLogProb, slor: s.slor, score: s.slor + s.meanLogProb };
  }

  /** The syntax model's score of the text's word classes. */
  syntaxScore(text: string): number {
    return ngramScore(this.syntax.ngram, this.syntax.classes.ids(text));
  }

  /**
   * Percentiles among held-out human windows of the text's token length (by the dreamed model's tokenizer): of the
   * token model's score (`percentile`) and of the syntax model's (`syntaxPercentile`).
   */
  percentile(text: string): { percentile: number; syntaxScore: number; syntaxPercentile: number } & JudgeScores {
    const s = this.scores(text);
    const len = this.tok.encode(text).length;
    const syntaxScore = this.syntaxScore(text);
    return { ...s, percentile: this.table.percentile(s.score, len), syntaxScore, syntaxPercentile: this.syntax.table.percentile(syntaxScore, len) };
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

/**
 * Count the judge's documents (token ids of lower-cased text, and word classes), its lexicon (words its text uses at
 * least LEXICON_MIN_COUNT times, plus `wordList`), and calibrate both models on held-out documents.
 */
export function buildJudge(
  tok: TextTokenizer,
  judgeDocs: readonly string[],
  heldOutDocs: readonly string[],
  log: (s: string) => void = () => undefined,
  wordList: Iterable<string> = [],
): ReadabilityJudge {
  const ngram = new KneserNeyJudge(tok.vocabSize);
  const classes = WordClasses.fromTexts(judgeDocs);
  const syntaxNgram = new KneserNeyJudge(classes.size);
  const counts = new Map<string, number>();
  judgeDocs.forEach((text, i) => {
    ngram.addDocument(tok.encode(text.toLowerCase()));
    syntaxNgram.addDocument(classes.ids(text));
    for (const w of textWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    if ((i + 1) % 200 === 0) log(`judge: counted ${i + 1}/${judgeDocs.length} documents`);
  });
  const lexicon = new Set([...counts].filter(([, c]) => c >= LEXICON_MIN_COUNT).map(([w]) => w));
  for (const w of wordList) lexicon.add(w.toLowerCase());
  const windows = calibrationWindows(tok, heldOutDocs);
  const table = calibrate(windows, (text) => ngramScore(ngram, tok.encode(text.toLowerCase())));
  const syntaxTable = calibrate(windows, (text) => ngramScore(syntaxNgram, classes.ids(text)));
  return new ReadabilityJudge(ngram, lexicon, table, tok, { classes, ngram: syntaxNgram, table: syntaxTable });
}

/** Windows of held-out text at random offsets (CALIBRATION), decoded as a dream would be, by token length. */
export function calibrationWindows(tok: TextTokenizer, heldOutDocs: readonly string[]): Map<number, string[]> {
  const { minLen, maxLen, perLength, seed } = CALIBRATION;
  const windows = sampleWindows(heldOutDocs.map((d) => tok.encode(d)), minLen, maxLen, perLength, seed);
  return new Map([...windows].map(([len, ws]) => [len, ws.map((w) => tok.decode(w))]));
}

/** The percentile reference: `score` of each calibration window. */
export function calibrate(windows: Map<number, string[]>, score: (text: string) => number): PercentileTable {
  return new PercentileTable(new Map([...windows].map(([len, ws]) => [len, ws.map(score)])));
}
