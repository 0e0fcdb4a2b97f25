// A tiny PNG encoder for grayscale 8-bit images (https://www.w3.org/TR/png/): signature, IHDR, one zlib IDAT
// of rows each starting with filter byte 0 (none), IEND. Enough for dreams and grids; no dependencies but zlib.
import { deflateSync } from 'node:zlib';
import { SIDE } from './data.js';

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** PNG bytes of a width×height grayscale image given as row-major bytes (0 black, 255 white). */
export function encodeGrayPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new RangeError(`encodeGrayPng: bad size ${width}×${height}`);
  if (pixels.length !== width * height) throw new RangeError(`encodeGrayPng: ${pixels.length} pixels for ${width}×${height}`);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, colour type 0 (grayscale), deflate, filter method 0, no interlace
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1); // filter byte 0
  const parts = [SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An intensity in [0, 1] as a byte (clamped, rounded). */
export function toByte(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v * 255)));
}

/**
 * A grid of 28×28 images (intensities in [0, 1]), each pixel drawn as a scale×scale block, `gap` gray pixels
 * between cells and around the edge. `rows[r][c]` is one image (784 values); rows may differ in length.
 */
export function gridPng(rows: ArrayLike<number>[][], scale = 8, gap = 4, background = 128): Uint8Array {
  const cols = Math.max(...rows.map((r) => r.length));
  const cell = SIDE * scale;
  const width = cols * cell + (cols + 1) * gap;
  const height = rows.length * cell + (rows.length + 1) * gap;
  const px = new Uint8Array(width * height).fill(background);
  rows.forEach((row, r) =>
    row.forEach((img, c) => {
      if (img.length !== SIDE * SIDE) throw new RangeError(`gridPng: image [${r}][${c}] has ${img.length} values, expected ${SIDE * SIDE}`);
      const x0 = gap + c * (cell + gap);
      const y0 = gap + r * (cell + gap);
      for (let y = 0; y < cell; y++) {
        const src = Math.floor(y / scale) * SIDE;
        const dst = (y0 + y) * width + x0;
        for (let x = 0; x < cell; x++) px[dst + x] = toByte(img[src + Math.floor(x / scale)]);
      }
    }),
  );
  return encodeGrayPng(px, width, height);
}

/** One 28×28 image upscaled ×scale, without borders. */
export function imagePng(image: ArrayLike<number>, scale = 8): Uint8Array {
  return gridPng([[image]], scale, 0);
}
