/**
 * Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
 * an 8-byte little-endian header length, a JSON header mapping tensor names to
 * {dtype, shape, data_offsets}, then the raw little-endian data. Pure Node, no tfjs:
 * every tensor comes back as float32 whatever it was stored as.
 */
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { ModelFileError } from './errors.js';

export type SafeDtype = 'F32' | 'F16' | 'BF16';

export interface RawTensor {
  name: string;
  /** How it was stored; `data` is always decoded to float32. */
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array;
}

export interface ReadOptions {
  /** Tensors to ignore before any dtype/value check (e.g. old GPT-2 `attn.bias` mask buffers). */
  skip?: (name: string) => boolean;
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype: 'F32' | 'F16';
}

const ITEM_SIZE: Record<SafeDtype, number> = { F32: 4, F16: 2, BF16: 2 };
const SUPPORTED = Object.keys(ITEM_SIZE).join(', ');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const CORRUPT_FIX = 'the file is damaged or incomplete; download or export it again';

/** A header entry whose offsets have been checked against the file's data section. */
interface Entry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

/** Parses a whole safetensors file held in memory. F32 tensors may share memory with `bytes`. */
export function parseSafetensors(bytes: Uint8Array, fileLabel: string, opts: ReadOptions = {}): Map<string, RawTensor> {
  const headerLen = readHeaderLength(bytes, bytes.length, fileLabel);
  const header = bytes.subarray(8, 8 + headerLen);
  const entries = parseHeader(header, bytes.length, fileLabel, opts.skip);
  const out = new Map<string, RawTensor>();
  for (const e of entries) {
    out.set(e.name, decodeEntry(e, bytes.subarray(e.begin, e.end), fileLabel));
  }
  return out;
}

/**
 * Reads one file tensor by tensor rather than as one buffer, so files past Node's 2 GiB
 * readFile limit work and skipped tensors are never read.
 */
export async function readSafetensorsFile(path: string, opts: ReadOptions = {}): Promise<Map<string, RawTensor>> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw fileOpenError(path, err);
  }
  try {
    const size = (await handle.stat()).size;
    const prefix = await readRange(handle, 0, Math.min(8, size));
    const headerLen = readHeaderLength(prefix, size, path);
    const header = await readRange(handle, 8, headerLen);
    const entries = parseHeader(header, size, path, opts.skip);
    const out = new Map<string, RawTensor>();
    for (const e of entries) {
      // A fresh buffer per tensor starts at offset 0, so F32 data can be viewed without a copy.
      out.set(e.name, decodeEntry(e, await readRange(handle, e.begin, e.end - e.begin), path));
    }
    return out;
  } finally {
    await handle.close();
  }
}

/**
 * Reads a Hugging Face checkpoint folder: `model.safetensors`, or `model.safetensors.index.json`
 * plus every shard its `weight_map` names. `files` lists the safetensors files read, in order.
 */
export async function readCheckpointTensors(
  dir: string,
  opts: ReadOptions = {},
): Promise<{ tensors: Map<string, RawTensor>; files: string[] }> {
  const single = join(dir, 'model.safetensors');
  if (await isFile(single)) {
    return { tensors: await readSafetensorsFile(single, opts), files: [single] };
  }
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (!(await isFile(indexPath))) {
    const hasBin = await isFile(join(dir, 'pytorch_model.bin'));
    throw new ModelFileError(
      'no model.safetensors or model.safetensors.index.json (with its shards) in this folder' +
        (hasBin ? '; it has pytorch_model.bin, which is not supported' : ''),
      dir,
      'put the weights in safetensors format here (model.safetensors, or model.safetensors.index.json ' +
        'and its shards); pytorch_model.bin is not supported: convert it to safetensors first',
    );
  }
  const weightMap = await readWeightMap(indexPath);
  const shards = [...new Set(weightMap.values())];
  const tensors = new Map<string, RawTensor>();
  const files: string[] = [];
  for (const shard of shards) {
    const shardPath = join(dir, shard);
    if (!(await isFile(shardPath))) {
      const fix = 'download the checkpoint again so that every shard named in the index is present';
      throw new ModelFileError(`shard listed in ${basename(indexPath)} is missing`, shardPath, fix);
    }
    for (const [name, t] of await readSafetensorsFile(shardPath, opts)) {
      if (tensors.has(name)) {
        throw new ModelFileError(`tensor "${name}" appears in more than one shard`, shardPath, CORRUPT_FIX);
      }
      tensors.set(name, t);
    }
    files.push(shardPath);
  }
  // The index is a promise about where each tensor lives; a shard that breaks it is corrupt.
  for (const [name, shard] of weightMap) {
    if (!tensors.has(name) && !opts.skip?.(name)) {
      throw new ModelFileError(`index says tensor "${name}" is in this shard, but it is not`, join(dir, shard), CORRUPT_FIX);
    }
  }
  return { tensors, files };
}

/** Serialises tensors; the header is padded with spaces to a multiple of 8 like the reference writer. */
export function encodeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  // Wider dtypes first keeps every tensor aligned to its item size, as the reference writer does.
  const ordered = [...tensors].sort((a, b) => ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype]);
  const header: Record<string, unknown> = Object.create(null); // tensor names are data, not object keys
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of ordered) {
    if (t.name === '__metadata__' || t.name in header) {
      throw new Error(`encodeSafetensors: duplicate or reserved tensor name "${t.name}"`);
    }
    if (t.dtype !== 'F32' && t.dtype !== 'F16') {
      throw new Error(`encodeSafetensors: cannot write dtype ${t.dtype} (tensor "${t.name}"); use F32 or F16`);
    }
    if (product(t.shape) !== t.data.length) {
      throw new Error(`encodeSafetensors: tensor "${t.name}" has ${t.data.length} values; shape [${t.shape}] needs ${product(t.shape)}`);
    }
    const size = t.data.length * ITEM_SIZE[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const jsonBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(jsonBytes.length / 8) * 8;
  json += ' '.repeat(padded - jsonBytes.length);

  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(new TextEncoder().encode(json), 8);
  let pos = 8 + padded;
  // Our reader rejects NaN/Inf, so refuse to write them (including F16 overflow past 65504).
  const unwritable = (t: TensorToWrite, i: number) =>
    new Error(`encodeSafetensors: tensor "${t.name}" value ${t.data[i]} at index ${i} is not finite in ${t.dtype}`);
  for (const t of ordered) {
    if (t.dtype === 'F32') {
      for (let i = 0; i < t.data.length; i++) {
        if (!Number.isFinite(t.data[i])) throw unwritable(t, i);
        view.setFloat32(pos + 4 * i, t.data[i], true);
      }
    } else {
      for (let i = 0; i < t.data.length; i++) {
        const h = floatToHalf(t.data[i]);
        if ((h & 0x7c00) === 0x7c00) throw unwritable(t, i);
        view.setUint16(pos + 2 * i, h, true);
      }
    }
    pos += t.data.length * ITEM_SIZE[t.dtype];
  }
  return out;
}

/** Writes atomically: a temp file in the same folder, then a rename, so readers never see half a file. */
export async function writeSafetensorsFile(
  path: string,
  tensors: TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Nearest float16 bit pattern for a number (round-to-nearest-even; overflow to ±Inf; NaN stays NaN). */
export function floatToHalf(value: number): number {
  F32_SCRATCH[0] = value;
  const x = U32_SCRATCH[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7c00);
  const e = exp - 127 + 15; // float16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e >= 1) {
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    // A carry out of the mantissa bumps the exponent, which is exactly the right rounding (even to Inf).
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
    return sign | h;
  }
  // Subnormal result: the value in units of 2^-24 is full * 2^-shift.
  const shift = 14 - e;
  if (shift > 24) return sign; // below half the smallest subnormal
  const full = mant | 0x800000;
  let m = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (m & 1) === 1)) m++;
  return sign | m;
}

/** The float value of a float16 bit pattern. */
export function halfToFloat(h: number): number {
  return halfTable()[h & 0xffff];
}

// ---------------------------------------------------------------------------------------------

const F32_SCRATCH = new Float32Array(1);
const U32_SCRATCH = new Uint32Array(F32_SCRATCH.buffer);
let HALF_TABLE: Float32Array | undefined;

/** All 65,536 float16 values, built once: a lookup is much faster than bit fiddling per element. */
function halfTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * frac * 2 ** -24;
    else if (exp === 0x1f) table[h] = frac ? NaN : sign * Infinity;
    else table[h] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  HALF_TABLE = table;
  return table;
}

function readHeaderLength(prefix: Uint8Array, fileSize: number, label: string): number {
  if (fileSize < 8) {
    throw new ModelFileError(
      `file is ${fileSize} bytes, too short to be safetensors (it must start with an 8-byte header length)`,
      label,
      CORRUPT_FIX,
    );
  }
  const len = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  // The reference reader's 100 MB cap also stops a lying length from allocating gigabytes.
  if (len > 100_000_000n) {
    throw new ModelFileError(`header length ${len} is over the 100 MB limit (not safetensors?)`, label, CORRUPT_FIX);
  }
  if (len > BigInt(fileSize - 8)) {
    throw new ModelFileError(
      `header length ${len} runs past the end of the ${fileSize}-byte file (truncated, or not safetensors)`,
      label,
      CORRUPT_FIX,
    );
  }
  return Number(len);
}

function parseHeader(
  headerBytes: Uint8Array,
  fileSize: number,
  label: string,
  skip: ((name: string) => boolean) | undefined,
): Entry[] {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw new ModelFileError(`header is not valid UTF-8 JSON (${(err as Error).message})`, label, CORRUPT_FIX);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new ModelFileError('header is not a JSON object', label, CORRUPT_FIX);
  }
  const dataStart = 8 + headerBytes.length;
  const dataLen = fileSize - dataStart;
  const entries: Entry[] = [];
  const spans: { name: string; start: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const bad = (problem: string, fix = CORRUPT_FIX) => new ModelFileError(`tensor "${name}": ${problem}`, label, fix);
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as Record<string, unknown>;
    const skipped = skip?.(name) ?? false;
    // A skipped tensor's dtype and shape are not read (mask buffers may be U8 or F64), but its bytes are part of the
    // layout checked below.
    if (skipped && Array.isArray(offsets) && offsets.length === 2 && offsets.every(isNonNegInt) && offsets[0] <= offsets[1]) {
      spans.push({ name, start: offsets[0], end: offsets[1] });
      continue;
    }
    if (typeof dtype !== 'string') throw bad('header entry has no dtype');
    if (!(dtype in ITEM_SIZE)) {
      throw bad(
        `dtype ${dtype} is not supported (supported: ${SUPPORTED})`,
        'convert the checkpoint to F32, F16 or BF16 safetensors',
      );
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) throw bad(`shape ${JSON.stringify(shape)} is not a list of sizes`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
      throw bad(`data_offsets ${JSON.stringify(offsets)} is not a pair of byte offsets`);
    }
    const [start, end] = offsets as [number, number];
    if (end < start) throw bad(`data_offsets [${start}, ${end}] end before they start`);
    if (end > dataLen) throw bad(`data_offsets [${start}, ${end}] run past the ${dataLen}-byte data section`);
    const want = product(shape) * ITEM_SIZE[dtype as SafeDtype];
    if (end - start !== want) {
      throw bad(`data_offsets [${start}, ${end}] span ${end - start} bytes but ${dtype} [${shape}] needs ${want}`);
    }
    spans.push({ name, start, end });
    if (!skipped) entries.push({ name, dtype: dtype as SafeDtype, shape: [...shape], begin: dataStart + start, end: dataStart + end });
  }
  checkLayout(spans, dataLen, label);
  return entries;
}

/**
 * The format's layout rules: the tensors' byte ranges, in offset order, start at 0, follow each other with no gap and
 * no overlap, and end exactly where the file does. A file that breaks them was cut short, padded or hand-edited.
 */
function checkLayout(spans: { name: string; start: number; end: number }[], dataLen: number, label: string): void {
  const sorted = spans.slice().sort((a, b) => a.start - b.start || a.end - b.end);
  let at = 0;
  let prev: string | undefined;
  for (const s of sorted) {
    if (s.start < at) {
      throw new ModelFileError(`tensor "${s.name}": data_offsets [${s.start}, ${s.end}] overlap tensor "${prev}", which ends at ${at}`, label, CORRUPT_FIX);
    }
    if (s.start > at) {
      const after = prev === undefined ? 'the start of the data section' : `tensor "${prev}" (ends at ${at})`;
      throw new ModelFileError(`tensor "${s.name}": data_offsets [${s.start}, ${s.end}] leave a ${s.start - at}-byte gap after ${after}`, label, CORRUPT_FIX);
    }
    at = s.end;
    prev = s.name;
  }
  if (at !== dataLen) {
    const last = prev === undefined ? 'the header lists no tensor' : `the last tensor, "${prev}", ends at ${at}`;
    throw new ModelFileError(`the ${dataLen}-byte data section is not covered exactly: ${last}`, label, CORRUPT_FIX);
  }
}

function decodeEntry(e: Entry, raw: Uint8Array, label: string): RawTensor {
  const data = decode(e.dtype, raw);
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for finite numbers and NaN for NaN and ±Inf; one comparison per element.
    if (data[i] - data[i] !== 0) {
      throw new ModelFileError(
        `tensor "${e.name}" holds a non-finite value (${data[i]} at flat index ${i})`,
        label,
        're-export the checkpoint; the weights are corrupt',
      );
    }
  }
  return { name: e.name, dtype: e.dtype, shape: e.shape, data };
}

function decode(dtype: SafeDtype, raw: Uint8Array): Float32Array {
  const n = raw.length / ITEM_SIZE[dtype];
  // Typed-array views use host byte order; safetensors is little-endian, like every host Node ships on but s390x.
  if (!LITTLE_ENDIAN) throw new Error('safetensors decoding needs a little-endian host');
  if (dtype === 'F32') {
    // An unaligned view is not allowed; copying to a fresh buffer aligns it.
    const src = raw.byteOffset % 4 === 0 ? raw : raw.slice();
    return new Float32Array(src.buffer, src.byteOffset, n);
  }
  const src = raw.byteOffset % 2 === 0 ? raw : raw.slice();
  const u16 = new Uint16Array(src.buffer, src.byteOffset, n);
  const out = new Float32Array(n);
  if (dtype === 'F16') {
    const table = halfTable();
    for (let i = 0; i < n; i++) out[i] = table[u16[i]];
  } else {
    // BF16 is the upper half of a float32.
    const out32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) out32[i] = u16[i] << 16;
  }
  return out;
}

async function readWeightMap(indexPath: string): Promise<Map<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (err) {
    throw new ModelFileError(`is not valid JSON (${(err as Error).message})`, indexPath, CORRUPT_FIX);
  }
  const weightMap = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new ModelFileError('has no "weight_map" object (tensor name → shard file)', indexPath, CORRUPT_FIX);
  }
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    // Shards live beside the index; anything else would let an index read arbitrary files.
    if (typeof shard !== 'string' || shard === '' || isAbsolute(shard) || shard.split(/[\\/]/).includes('..')) {
      throw new ModelFileError(`weight_map entry for "${name}" is not a shard file name`, indexPath, CORRUPT_FIX);
    }
    out.set(name, shard);
  }
  return out;
}

async function readRange(handle: import('node:fs/promises').FileHandle, position: number, length: number) {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
  return buf;
}

function fileOpenError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new ModelFileError('file not found', path, 'check the path, or download the model again');
  }
  if (code === 'EISDIR') {
    return new ModelFileError('is a folder, not a safetensors file', path, 'pass the .safetensors file inside it');
  }
  return new ModelFileError(`cannot be read (${(err as Error).message})`, path, 'check the file permissions');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
