// The activation histogram every scanned neuron gets: fixed bins, the same for every neuron, layer and model, so
// histograms merge by adding counts and a resumed scan just keeps counting.
//
// Bins follow the float32 exponent: |x| in [2^-10, 2^10) is split into 20 octaves × 4 equal sub-bins (relative
// width 1/4 to 1/8), mirrored for negative values; |x| < 2^-10 (zero included) is one central bin, and values
// beyond ±2^10 land in the outermost bins. The bin of a value is a shift of its bits (no log), which keeps the scan's
// per-token cost small. Quantiles are read from the cumulative counts, interpolated linearly inside a bin and
// clamped to the exact [min, max] seen; their error is below the bin width (≤ 25 % of the value, far less in practice).

export const OCTAVES = 20;
export const SUB = 4;
export const LOW_EXP = -10;
/** Bins per side of zero. */
export const SIDE = OCTAVES * SUB;
export const ZERO_BIN = SIDE;
export const HIST_BINS = 2 * SIDE + 1;
/** (127 + LOW_EXP) << 2: the value of bits >>> 21 at |x| = 2^LOW_EXP. */
const BASE = (127 + LOW_EXP) << 2;

/** The bin of one float32 value given its bit pattern (see the scan's hot loop, which inlines this). */
export function binOfBits(bits: number): number {
  const i = ((bits & 0x7fffffff) >>> 21) - BASE;
  if (i < 0) return ZERO_BIN;
  const j = i >= SIDE ? SIDE - 1 : i;
  return bits < 0 || bits >>> 31 ? SIDE - 1 - j : SIDE + 1 + j;
}

const scratch = new Float32Array(1);
const scratchBits = new Int32Array(scratch.buffer);
export function binOf(x: number): number {
  scratch[0] = x;
  return binOfBits(scratchBits[0]);
}

/** [lo, hi) of a bin; the outermost bins are open-ended (±Infinity). */
export function binEdges(bin: number): [number, number] {
  if (bin === ZERO_BIN) return [-(2 ** LOW_EXP), 2 ** LOW_EXP];
  const mag = (i: number): [number, number] => {
    const o = Math.floor(i / SUB);
    const j = i % SUB;
    const p = 2 ** (LOW_EXP + o);
    return [p * (1 + j / SUB), i === SIDE - 1 ? Infinity : p * (1 + (j + 1) / SUB)];
  };
  if (bin > ZERO_BIN) return mag(bin - SIDE - 1);
  const [lo, hi] = mag(SIDE - 1 - bin);
  return [-hi, -lo];
}

export const DEFAULT_QUANTILES = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999];

/** Quantile estimates from one neuron's counts (length HIST_BINS), clamped to the exact [min, max]. */
export function quantiles(counts: ArrayLike<number>, min: number, max: number, qs: readonly number[] = DEFAULT_QUANTILES): { q: number; value: number }[] {
  let total = 0;
  for (let b = 0; b < HIST_BINS; b++) total += counts[b];
  if (!total) return [];
  return qs.map((q) => {
    const target = q * total;
    let seen = 0;
    for (let b = 0; b < HIST_BINS; b++) {
      const c = counts[b];
      if (!c) continue;
      if (seen + c >= target) {
        const [lo0, hi0] = binEdges(b);
        const lo = Math.max(lo0, min);
        const hi = Math.min(hi0, max);
        const value = hi > lo ? lo + ((target - seen) / c) * (hi - lo) : lo;
        return { q, value: Math.min(max, Math.max(min, value)) };
      }
      seen += c;
    }
    return { q, value: max };
  });
}

/** Non-empty bins, low to high, with the outermost edges clamped to [min, max]. */
export function nonEmptyBins(counts: ArrayLike<number>, min: number, max: number): { bin: number; lo: number; hi: number; count: number }[] {
  const out: { bin: number; lo: number; hi: number; count: number }[] = [];
  for (let b = 0; b < HIST_BINS; b++) {
    if (!counts[b]) continue;
    const [lo, hi] = binEdges(b);
    out.push({ bin: b, lo: Math.max(lo, min), hi: Math.min(hi, max), count: counts[b] });
  }
  return out;
}
