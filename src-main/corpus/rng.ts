/**
 * Seeded pseudo-random numbers for everything in the project that must be reproducible
 * (corpus splits, sampling, initialisation). Never use Math.random where a result is stored.
 */

/**
 * A 32-bit generator: a Weyl sequence (add an odd constant) fed through an integer mixer.
 * Period 2^32, passes casual statistical use, and is tiny and fast. Not for cryptography.
 * Returns floats uniform in [0, 1).
 */
export function rng(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new RangeError(`rng: seed must be a finite number, got ${seed}`);
  // Fold non-integers and large seeds into 32 bits so every finite seed is usable and distinct-ish.
  let state = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    z ^= z >>> 15;
    return (z >>> 0) / 2 ** 32;
  };
}

/** Integer uniform in [0, n). */
export function randInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

/** Fisher–Yates shuffle. Returns a new array; the input is not touched. */
export function shuffle<T>(array: readonly T[], rand: () => number): T[] {
  const out = array.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(rand, i + 1);
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}
