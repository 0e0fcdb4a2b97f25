/**
 * Add-k smoothed bigram language model over token ids: the baseline a neural model's held-out
 * loss is compared against. With k tuned on a dev set it is a fair (if weak) baseline.
 *
 *   P(b | a) = (c(a, b) + k) / (c(a) + k·V)
 *
 * c(a, b) counts a followed by b inside one sequence; c(a) = Σ_b c(a, b) counts a as a context
 * (so a sequence's last token is not counted), which makes each P(· | a) sum to exactly 1 over the
 * vocabulary, including for a never seen (c(a) = 0 gives the uniform 1/V).
 *
 * Scoring convention: sequences are independent (no bigram spans two documents), and the FIRST
 * token of each sequence is skipped — only next-token predictions are scored, as in a language
 * model's next-token loss. Score the neural model over the same positions (targets 1..n-1 of each
 * sequence) for a like-for-like comparison. `crossEntropy` reports this as `firstToken: 'skipped'`.
 */

export interface CrossEntropy {
  /** Total negative log-likelihood in nats over all scored tokens. */
  nats: number;
  /** Number of scored predictions: Σ (length − 1) over sequences. */
  tokens: number;
  /** nats / tokens (NaN when nothing was scored). */
  natsPerToken: number;
  /** exp(natsPerToken). */
  perplexity: number;
  /** How each sequence's first token was treated: never scored (no context to predict it from). */
  firstToken: 'skipped';
}

export class BigramModel {
  private constructor(
    readonly vocabSize: number,
    readonly k: number,
    /** c(a, b) keyed by a·V + b (exact in a double for V up to ~9e7). */
    private readonly pairCounts: ReadonlyMap<number, number>,
    /** c(a): times each id occurs as a context (followed by another token in its sequence). */
    readonly contextCounts: Float64Array,
    /** Number of bigrams counted. */
    readonly trainTokens: number,
  ) {}

  /**
   * Count bigrams in `sequences` (each a separate document or window; token ids in [0, V)).
   * Sparse: memory grows with the number of distinct bigrams (a JS Map holds up to ~16M).
   */
  static fit(sequences: Iterable<ArrayLike<number>>, vocabSize: number, k: number): BigramModel {
    checkVocab(vocabSize);
    checkK(k);
    const pairs = new Map<number, number>();
    const context = new Float64Array(vocabSize);
    let total = 0;
    let seqIndex = 0;
    for (const seq of sequences) {
      for (let i = 0; i < seq.length; i++) checkId(seq[i], vocabSize, `sequence ${seqIndex}, position ${i}`);
      for (let i = 1; i < seq.length; i++) {
        const a = seq[i - 1];
        const key = a * vocabSize + seq[i];
        pairs.set(key, (pairs.get(key) ?? 0) + 1);
        context[a]++;
        total++;
      }
      seqIndex++;
    }
    return new BigramModel(vocabSize, k, pairs, context, total);
  }

  /** The same counts with another smoothing constant (no refit). */
  withK(k: number): BigramModel {
    checkK(k);
    return new BigramModel(this.vocabSize, k, this.pairCounts, this.contextCounts, this.trainTokens);
  }

  /** c(a, b) from training. */
  count(prev: number, next: number): number {
    return this.pairCounts.get(prev * this.vocabSize + next) ?? 0;
  }

  /** Number of distinct bigrams seen in training. */
  get distinctBigrams(): number {
    return this.pairCounts.size;
  }

  /** Natural log of P(next | prev). */
  logProb(prev: number, next: number): number {
    checkId(prev, this.vocabSize, 'prev');
    checkId(next, this.vocabSize, 'next');
    return this.logProbUnchecked(prev, next);
  }

  private logProbUnchecked(prev: number, next: number): number {
    const V = this.vocabSize;
    const c = this.pairCounts.get(prev * V + next) ?? 0;
    return Math.log(c + this.k) - Math.log(this.contextCounts[prev] + this.k * V);
  }

  /** Next-token cross-entropy over `sequences`; see the module comment for the convention. */
  crossEntropy(sequences: Iterable<ArrayLike<number>>): CrossEntropy {
    let nats = 0;
    let tokens = 0;
    let seqIndex = 0;
    for (const seq of sequences) {
      for (let i = 0; i < seq.length; i++) checkId(seq[i], this.vocabSize, `sequence ${seqIndex}, position ${i}`);
      for (let i = 1; i < seq.length; i++) nats -= this.logProbUnchecked(seq[i - 1], seq[i]);
      tokens += Math.max(0, seq.length - 1);
      seqIndex++;
    }
    const natsPerToken = tokens === 0 ? NaN : nats / tokens;
    return { nats, tokens, natsPerToken, perplexity: Math.exp(natsPerToken), firstToken: 'skipped' };
  }
}

export const DEFAULT_K_CANDIDATES: readonly number[] = [1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001];

export interface TuneKResult {
  /** The candidate with the lowest dev perplexity (first one listed on a tie). */
  k: number;
  /** The model fitted on train, with the chosen k. */
  model: BigramModel;
  /** Dev perplexity for every candidate, in the order given. */
  dev: { k: number; perplexity: number }[];
  /** The chosen k is the largest or smallest candidate, so the optimum may lie outside the list. */
  atBoundary: boolean;
}

/** Fit on `train` once and choose k by perplexity on `dev` (a set disjoint from both train and test). */
export function tuneK(
  train: Iterable<ArrayLike<number>>,
  dev: Iterable<ArrayLike<number>>,
  vocabSize: number,
  candidates: readonly number[] = DEFAULT_K_CANDIDATES,
): TuneKResult {
  if (candidates.length === 0) throw new RangeError('tuneK: candidates must not be empty');
  candidates.forEach(checkK);
  const devSeqs = Array.from(dev); // scored once per candidate, so it must be re-iterable
  const base = BigramModel.fit(train, vocabSize, candidates[0]);
  const results = candidates.map((k) => ({ k, perplexity: base.withK(k).crossEntropy(devSeqs).perplexity }));
  let best = results[0];
  for (const r of results) if (r.perplexity < best.perplexity) best = r;
  const atBoundary = candidates.length > 1 && (best.k === Math.min(...candidates) || best.k === Math.max(...candidates));
  return { k: best.k, model: base.withK(best.k), dev: results, atBoundary };
}

function checkVocab(V: number): void {
  if (!Number.isInteger(V) || V < 1) throw new RangeError(`BigramModel: vocabSize must be a positive integer, got ${V}`);
}

function checkK(k: number): void {
  // k = 0 would give log(0) = -Infinity for any unseen bigram.
  if (!(k > 0) || !Number.isFinite(k)) throw new RangeError(`BigramModel: k must be a finite number > 0, got ${k}`);
}

function checkId(id: number, V: number, where: string): void {
  if (!Number.isInteger(id) || id < 0 || id >= V) {
    throw new RangeError(`BigramModel: token id ${id} at ${where} is outside the vocabulary [0, ${V})`);
  }
}
