// A judge score means little alone; calibrated against people's text it means "scores like real text". For each
// token length, the judge's scores of held-out human windows of that length, sorted: a text's percentile is the
// share of those windows scoring below it (ties count half).
import { rng } from '../corpus/rng.js';

export class PercentileTable {
  /** Sorted scores by token length. */
  private readonly byLength = new Map<number, Float64Array>();

  constructor(scores: Map<number, number[]>) {
    for (const [len, s] of scores) {
      const finite = s.filter((x) => Number.isFinite(x));
      if (finite.length) this.byLength.set(len, Float64Array.from(finite).sort());
    }
    if (this.byLength.size === 0) throw new Error('PercentileTable: no reference scores');
  }

  get lengths(): number[] {
    return [...this.byLength.keys()].sort((a, b) => a - b);
  }

  /** The reference scores for `length` tokens, or for the nearest length that has some. */
  reference(length: number): Float64Array {
    const exact = this.byLength.get(length);
    if (exact) return exact;
    let best = this.lengths[0];
    for (const l of this.lengths) if (Math.abs(l - length) < Math.abs(best - length)) best = l;
    return this.byLength.get(best)!;
  }

  /** Percentile (0-100) of `score` among reference texts of `length` tokens. */
  percentile(score: number, length: number): number {
    if (!Number.isFinite(score)) return 0;
    const ref = this.reference(length);
    let below = 0;
    let equal = 0;
    for (const x of ref) {
      if (x < score) below++;
      else if (x === score) equal++;
    }
    return (100 * (below + equal / 2)) / ref.length;
  }

  toJSON(): Record<string, number[]> {
    return Object.fromEntries([...this.byLength].map(([l, s]) => [String(l), Array.from(s)]));
  }

  static fromJSON(j: Record<string, number[]>): PercentileTable {
    return new PercentileTable(new Map(Object.entries(j).map(([l, s]) => [Number(l), s])));
  }
}

/**
 * `perLength` windows of each length in [minLen, maxLen], cut at random offsets (fixed by `seed`) from documents'
 * token ids: a window never spans two documents. Documents shorter than a length are skipped for it.
 */
export function sampleWindows(docs: readonly ArrayLike<number>[], minLen: number, maxLen: number, perLength: number, seed: number): Map<number, number[][]> {
  const rand = rng(seed);
  const out = new Map<number, number[][]>();
  for (let len = minLen; len <= maxLen; len++) {
    const fits = docs.filter((d) => d.length >= len);
    if (!fits.length) continue;
    // Choose documents in proportion to how many windows they hold, so long documents are not under-sampled.
    const weights = fits.map((d) => d.length - len + 1);
    const total = weights.reduce((a, b) => a + b, 0);
    const windows: number[][] = [];
    for (let i = 0; i < perLength; i++) {
      let r = rand() * total;
      let k = 0;
      while (r >= weights[k] && k < fits.length - 1) r -= weights[k++];
      const start = Math.floor(r);
      windows.push(Array.from(fits[k]).slice(start, start + len));
    }
    out.set(len, windows);
  }
  return out;
}
