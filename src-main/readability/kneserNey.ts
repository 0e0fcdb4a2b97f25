/**
 * An interpolated Kneser-Ney trigram model over GPT-2 token ids: the readability judge. It cannot copy from its
 * context (an n-gram model has no attention), so repeating a word earns a text nothing, unlike a transformer that
 * rewards in-context copying. Chen & Goodman's interpolated form with one absolute discount D per order:
 *
 *   P3(w | u v) = max(c(u v w) − D, 0) / c(u v ·) + D · N1+(u v ·) / c(u v ·) · P2(w | v)
 *   P2(w | v)   = max(N1+(· v w) − D, 0) / N1+(· v ·) + D · N1+(v ·) / N1+(· v ·) · P1(w)
 *   P1(w)       = max(N1+(· w) − D, 0) / N1+(· ·) + D · |{w : N1+(· w) > 0}| / N1+(· ·) · 1/V
 *
 * where c counts occurrences, N1+(· v w) the distinct tokens seen before the bigram v w, N1+(v ·) the distinct
 * tokens seen after v (as such continuation bigrams), N1+(· ·) the distinct bigrams. An unseen history falls back to
 * the lower order entirely. Documents are counted separately: no n-gram spans two documents.
 *
 * SLOR (syntactic log-odds ratio) is the mean over tokens of log P3 − log Pu, with Pu the add-½ unigram frequency:
 * frequent words in a random order score near zero or below, rare words in a fluent order score high.
 */

export const KN_DISCOUNT = 0.75;

export interface JudgeScore {
  /** Natural-log probability of each token given up to two tokens before it within the text. */
  logProbs: number[];
  /** Add-½ unigram log-probability of each token. */
  unigramLogProbs: number[];
  /** Mean of logProbs (nats per token, negated cross-entropy). */
  meanLogProb: number;
  /** Mean of logProbs − unigramLogProbs. */
  slor: number;
}

export interface PackedCounts {
  keys: Float64Array;
  values: Uint32Array;
}

export interface KneserNeyArrays {
  vocabSize: number;
  discount: number;
  tokens: number;
  bigramTypes: number;
  tri: PackedCounts;
  ctx2: PackedCounts;
  ctx2Types: PackedCounts;
  cont2: PackedCounts;
  cont2Total: PackedCounts;
  cont2Types: PackedCounts;
  cont1: PackedCounts;
  uni: PackedCounts;
}

export class KneserNeyJudge {
  /** c(u v w) by key (u·V + v)·V + w. */
  private readonly tri = new Map<number, number>();
  /** c(u v ·) and N1+(u v ·) by key u·V + v. */
  private readonly ctx2 = new Map<number, number>();
  private readonly ctx2Types = new Map<number, number>();
  /** N1+(· v w) by key v·V + w; N1+(· v ·) and N1+(v ·) by v. */
  private readonly cont2 = new Map<number, number>();
  private readonly cont2Total = new Map<number, number>();
  private readonly cont2Types = new Map<number, number>();
  /** N1+(· w) by w; N1+(· ·); distinct w with N1+(· w) > 0. */
  private readonly cont1 = new Map<number, number>();
  private bigramTypes = 0;
  /** Raw unigram counts for SLOR. */
  private readonly uni = new Map<number, number>();
  private tokens = 0;

  constructor(
    readonly vocabSize: number,
    readonly discount = KN_DISCOUNT,
  ) {}

  /** Count a document's token ids (call once per document, in any order; counting is order-free). */
  addDocument(ids: ArrayLike<number>): void {
    if (this.frozen) throw new Error('KneserNeyJudge: a judge read from a file cannot count more text');
    const V = this.vocabSize;
    for (let i = 0; i < ids.length; i++) {
      const w = ids[i];
      if (!(w >= 0 && w < V)) throw new RangeError(`token id ${w} outside the vocabulary of ${V}`);
      this.uni.set(w, (this.uni.get(w) ?? 0) + 1);
      this.tokens++;
      if (i >= 1) {
        const v = ids[i - 1];
        const vw = v * V + w;
        if (!this.bigramSeen.has(vw)) {
          this.bigramSeen.add(vw);
          this.bigramTypes++;
          this.cont1.set(w, (this.cont1.get(w) ?? 0) + 1);
        }
      }
      if (i >= 2) {
        const u = ids[i - 2];
        const v = ids[i - 1];
        const uv = u * V + v;
        const key = uv * V + w;
        const c = this.tri.get(key) ?? 0;
        this.tri.set(key, c + 1);
        this.ctx2.set(uv, (this.ctx2.get(uv) ?? 0) + 1);
        if (c === 0) {
          this.ctx2Types.set(uv, (this.ctx2Types.get(uv) ?? 0) + 1);
          // A new (u, v, w): one more distinct left context for the bigram v w.
          const vw = v * V + w;
          const n = this.cont2.get(vw) ?? 0;
          this.cont2.set(vw, n + 1);
          this.cont2Total.set(v, (this.cont2Total.get(v) ?? 0) + 1);
          if (n === 0) this.cont2Types.set(v, (this.cont2Types.get(v) ?? 0) + 1);
        }
      }
    }
  }

  private readonly bigramSeen = new Set<number>();
  private frozen = false;

  /**
   * Every count as flat arrays (keys ascending), for a file. `minTrigramCount` > 1 leaves out rarer trigrams' own
   * counts while every aggregate stays exact: such a trigram then gets only its back-off mass, which for a count of
   * 1 is (1 − D) / c(u v ·) less than it had — a smaller file at a small, documented cost.
   */
  toArrays(minTrigramCount = 1): KneserNeyArrays {
    const pack = (m: Map<number, number>, min = 1) => {
      const keys = [...m.keys()].filter((k) => m.get(k)! >= min).sort((a, b) => a - b);
      return { keys: Float64Array.from(keys), values: Uint32Array.from(keys, (k) => m.get(k)!) };
    };
    return {
      vocabSize: this.vocabSize,
      discount: this.discount,
      tokens: this.tokens,
      bigramTypes: this.bigramTypes,
      tri: pack(this.tri, minTrigramCount),
      ctx2: pack(this.ctx2),
      ctx2Types: pack(this.ctx2Types),
      cont2: pack(this.cont2),
      cont2Total: pack(this.cont2Total),
      cont2Types: pack(this.cont2Types),
      cont1: pack(this.cont1),
      uni: pack(this.uni),
    };
  }

  static fromArrays(a: KneserNeyArrays): KneserNeyJudge {
    const j = new KneserNeyJudge(a.vocabSize, a.discount);
    const fill = (m: Map<number, number>, p: PackedCounts) => p.keys.forEach((k, i) => m.set(k, p.values[i]));
    fill(j.tri, a.tri);
    fill(j.ctx2, a.ctx2);
    fill(j.ctx2Types, a.ctx2Types);
    fill(j.cont2, a.cont2);
    fill(j.cont2Total, a.cont2Total);
    fill(j.cont2Types, a.cont2Types);
    fill(j.cont1, a.cont1);
    fill(j.uni, a.uni);
    j.tokens = a.tokens;
    j.bigramTypes = a.bigramTypes;
    j.frozen = true;
    return j;
  }

  get trainingTokens(): number {
    return this.tokens;
  }

  /** P1(w): the continuation unigram, interpolated with the uniform distribution so every token has mass. */
  p1(w: number): number {
    const D = this.discount;
    const total = this.bigramTypes;
    if (total === 0) return 1 / this.vocabSize;
    const n = this.cont1.get(w) ?? 0;
    return Math.max(n - D, 0) / total + ((D * this.cont1.size) / total) * (1 / this.vocabSize);
  }

  /** P2(w | v). */
  p2(v: number, w: number): number {
    const D = this.discount;
    const total = this.cont2Total.get(v) ?? 0;
    if (total === 0) return this.p1(w);
    const n = this.cont2.get(v * this.vocabSize + w) ?? 0;
    return Math.max(n - D, 0) / total + ((D * (this.cont2Types.get(v) ?? 0)) / total) * this.p1(w);
  }

  /** P3(w | u v). */
  p3(u: number, v: number, w: number): number {
    const D = this.discount;
    const V = this.vocabSize;
    const uv = u * V + v;
    const total = this.ctx2.get(uv) ?? 0;
    if (total === 0) return this.p2(v, w);
    const c = this.trigramCount(u, v, w);
    return Math.max(c - D, 0) / total + ((D * (this.ctx2Types.get(uv) ?? 0)) / total) * this.p2(v, w);
  }

  /** How often the counted text holds the trigram u v w (0 for one it never holds, or below the kept minimum). */
  trigramCount(u: number, v: number, w: number): number {
    const V = this.vocabSize;
    return this.tri.get((u * V + v) * V + w) ?? 0;
  }

  /** Add-½ unigram probability (SLOR's reference). */
  unigram(w: number): number {
    return ((this.uni.get(w) ?? 0) + 0.5) / (this.tokens + 0.5 * this.vocabSize);
  }

  /** Score a text's token ids with only the text itself as context (the first token by P1, the second by P2). */
  score(ids: ArrayLike<number>): JudgeScore {
    const logProbs: number[] = [];
    const unigramLogProbs: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const w = ids[i];
      const p = i === 0 ? this.p1(w) : i === 1 ? this.p2(ids[0], w) : this.p3(ids[i - 2], ids[i - 1], w);
      logProbs.push(Math.log(p));
      unigramLogProbs.push(Math.log(this.unigram(w)));
    }
    const n = ids.length;
    const meanLogProb = n ? logProbs.reduce((a, b) => a + b, 0) / n : Number.NaN;
    const slor = n ? logProbs.reduce((a, b, i) => a + b - unigramLogProbs[i], 0) / n : Number.NaN;
    return { logProbs, unigramLogProbs, meanLogProb, slor };
  }
}
