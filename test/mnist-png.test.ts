// The PNG encoder, checked by decoding its output by hand (chunks, CRCs, zlib inflate, filter bytes), and the
// digits' split (pure Node; no tfjs).
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rng } from '../src-main/corpus/rng.js';
import { CLASSES, loadDigits, PIXELS, splitDigits } from '../src-main/mnist/data.js';
import { crc32, encodeGrayPng, gridPng, imagePng } from '../src-main/mnist/png.js';

interface Decoded {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  pixels: Uint8Array;
  chunks: string[];
}

/** A strict little PNG reader for what the encoder writes: every CRC checked, filter type 0 only. */
function decodePng(png: Uint8Array): Decoded {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: string[] = [];
  let at = 8;
  let ihdr: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  while (at < png.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    expect(view.getUint32(at + 8 + len)).toBe(crc32(png.subarray(at + 4, at + 8 + len)));
    chunks.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  expect(at).toBe(png.length);
  const h = new DataView(ihdr!.buffer, ihdr!.byteOffset, 13);
  const width = h.getUint32(0);
  const height = h.getUint32(4);
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (width + 1));
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width + 1)]).toBe(0); // filter type none
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, bitDepth: ihdr![8], colorType: ihdr![9], pixels, chunks };
}

describe('PNG encoder', () => {
  it('round-trips arbitrary grayscale bytes exactly', () => {
    const rand = rng(5);
    const w = 13;
    const h = 7;
    const px = Uint8Array.from({ length: w * h }, () => Math.floor(rand() * 256));
    const d = decodePng(encodeGrayPng(px, w, h));
    expect(d).toMatchObject({ width: w, height: h, bitDepth: 8, colorType: 0 });
    expect(d.chunks).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([...d.pixels]).toEqual([...px]);
  });

  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('upscales a digit ×8 and lays out a grid with gaps', () => {
    const img = Array.from({ length: PIXELS }, (_, i) => (i % 28) / 27); // a horizontal ramp
    const one = decodePng(imagePng(img, 8));
    expect([one.width, one.height]).toEqual([224, 224]);
    expect(one.pixels[0]).toBe(0);
    expect(one.pixels[223]).toBe(255);
    expect(one.pixels[8 * 224 + 8]).toBe(Math.round((1 / 27) * 255)); // block (1, 1)
    const grid = decodePng(gridPng([[img, img, img], [img]], 2, 3, 128));
    expect([grid.width, grid.height]).toEqual([3 * 56 + 4 * 3, 2 * 56 + 3 * 3]);
    expect(grid.pixels[0]).toBe(128); // gap
    expect(grid.pixels[3 * grid.width + 3]).toBe(0); // first cell's first pixel
  });

  it('rejects a size that does not match the pixels', () => {
    expect(() => encodeGrayPng(new Uint8Array(10), 3, 3)).toThrow(/10 pixels for 3×3/);
  });
});

describe('MNIST data', () => {
  it('loads 10,000 digits in [0, 1] and splits them 85/15 per class, disjoint and reproducible', async () => {
    const all = await loadDigits();
    expect(all.count).toBe(10_000);
    expect(all.images.length).toBe(10_000 * PIXELS);
    expect(Math.min(...all.images.subarray(0, 50_000))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...all.images.subarray(0, 50_000))).toBeLessThanOrEqual(1);
    const a = splitDigits(all, 0, 0.15);
    const b = splitDigits(all, 0, 0.15);
    expect(a.train.count + a.heldOut.count).toBe(10_000);
    expect(a.heldOut.count).toBeGreaterThan(1450);
    expect(a.heldOut.count).toBeLessThan(1550);
    expect([...a.heldOut.labels]).toEqual([...b.heldOut.labels]);
    expect(a.heldOut.images.every((v, i) => v === b.heldOut.images[i])).toBe(true);
    for (let c = 0; c < CLASSES; c++) {
      const n = a.heldOut.labels.filter((l) => l === c).length;
      const total = all.labels.filter((l) => l === c).length;
      expect(Math.abs(n - 0.15 * total)).toBeLessThanOrEqual(1);
    }
    // Disjoint: no held-out image equals a training image (checked by a hash of the pixels).
    const key = (d: typeof a.train, i: number) => {
      let h = 2166136261;
      const px = d.images.subarray(i * PIXELS, (i + 1) * PIXELS);
      for (let k = 0; k < PIXELS; k++) h = Math.imul(h ^ Math.round(px[k] * 1000), 16777619);
      return h;
    };
    const train = new Set(Array.from({ length: a.train.count }, (_, i) => key(a.train, i)));
    let shared = 0;
    for (let i = 0; i < a.heldOut.count; i++) if (train.has(key(a.heldOut, i))) shared++;
    expect(shared).toBeLessThanOrEqual(5); // the package may hold a few exact duplicates; the indices are disjoint
    const c = splitDigits(all, 1, 0.15);
    expect([...c.heldOut.labels]).not.toEqual([...a.heldOut.labels]);
  });
});
