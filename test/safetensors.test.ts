import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURE } from './helpers/shared.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../src-main/model/errors.js';
import {
  encodeSafetensors,
  floatToHalf,
  halfToFloat,
  parseSafetensors,
  readCheckpointTensors,
  readSafetensorsFile,
  writeSafetensorsFile,
  type RawTensor,
} from '../src-main/model/safetensors.js';

const isMaskBuffer = (name: string) => /(^|\.)attn\.(masked_)?bias$/.test(name);

let f32: Map<string, RawTensor>;
let tmp: string;

beforeAll(async () => {
  f32 = await readSafetensorsFile(join(FIXTURE, 'model.safetensors'));
  tmp = await mkdtemp(join(tmpdir(), 'textdream-st-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The GPT-2 parameter names and shapes that config.json implies, without the `transformer.` prefix. */
async function expectedShapes(): Promise<Map<string, number[]>> {
  const cfg = JSON.parse(await readFile(join(FIXTURE, 'config.json'), 'utf8'));
  const d = cfg.n_embd;
  const inner = cfg.n_inner ?? 4 * d;
  const m = new Map<string, number[]>([
    ['wte.weight', [cfg.vocab_size, d]],
    ['wpe.weight', [cfg.n_positions, d]],
    ['ln_f.weight', [d]],
    ['ln_f.bias', [d]],
  ]);
  for (let l = 0; l < cfg.n_layer; l++) {
    const p = `h.${l}.`;
    for (const ln of ['ln_1', 'ln_2']) m.set(`${p}${ln}.weight`, [d]).set(`${p}${ln}.bias`, [d]);
    m.set(`${p}attn.c_attn.weight`, [d, 3 * d]).set(`${p}attn.c_attn.bias`, [3 * d]);
    m.set(`${p}attn.c_proj.weight`, [d, d]).set(`${p}attn.c_proj.bias`, [d]);
    m.set(`${p}mlp.c_fc.weight`, [d, inner]).set(`${p}mlp.c_fc.bias`, [inner]);
    m.set(`${p}mlp.c_proj.weight`, [inner, d]).set(`${p}mlp.c_proj.bias`, [d]);
  }
  return m;
}

/** A hand-made safetensors file, for shapes of file our encoder would never write. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerLenOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLenOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

const SCRATCH_F = new Float32Array(1);
const SCRATCH_U = new Uint32Array(SCRATCH_F.buffer);

/** Round-to-nearest-even float32 → bfloat16 → float32, as torch does. */
function roundBf16(x: number): number {
  SCRATCH_F[0] = x;
  const u = SCRATCH_U[0];
  SCRATCH_U[0] = (u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000;
  return SCRATCH_F[0];
}

/** Bit-for-bit equality of two arrays; a plain loop, since toEqual on millions of floats takes seconds. */
function expectSameFloats(a: Float32Array, b: Float32Array, label: string): void {
  expect(a.length, label).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) throw new Error(`${label}[${i}]: ${a[i]} !== ${b[i]}`);
  }
}

function expectModelFileError(fn: () => unknown, ...fragments: string[]): ModelFileError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ModelFileError);
  const err = caught as ModelFileError;
  for (const f of fragments) expect(err.message).toContain(f);
  expect(err.message).toContain('Fix:');
  return err;
}

describe('reading the fixture checkpoint', () => {
  it('F32 file has exactly the GPT-2 keys and the shapes config.json implies', async () => {
    const want = await expectedShapes();
    expect([...f32.keys()].sort()).toEqual([...want.keys()].map((k) => `transformer.${k}`).sort());
    for (const [name, shape] of want) {
      const t = f32.get(`transformer.${name}`)!;
      expect(t.shape, name).toEqual(shape);
      expect(t.dtype).toBe('F32');
      expect(t.data.length).toBe(shape.reduce((a, b) => a * b, 1));
    }
    expect(f32.get('transformer.wte.weight')!.shape).toEqual([50257, 32]);
  });

  it('readSafetensorsFile and parseSafetensors agree', async () => {
    const parsed = parseSafetensors(await readFile(join(FIXTURE, 'model.safetensors')), 'model.safetensors');
    for (const [name, t] of f32) expectSameFloats(parsed.get(name)!.data, t.data, name);
  });

  it('F16 variant decodes to the F32 weights rounded to half precision; skip drops mask buffers', async () => {
    const f16 = await readSafetensorsFile(join(FIXTURE, 'f16', 'model.safetensors'), { skip: isMaskBuffer });
    const want = await expectedShapes();
    expect([...f16.keys()].sort()).toEqual([...want.keys(), 'lm_head.weight'].sort());
    for (const [name, t] of f16) {
      const ref = f32.get(`transformer.${name === 'lm_head.weight' ? 'wte.weight' : name}`)!;
      expect(t.dtype).toBe('F16');
      expect(t.shape).toEqual(ref.shape);
      for (let i = 0; i < ref.data.length; i++) {
        const diff = Math.abs(t.data[i] - ref.data[i]);
        if (diff > 1e-3 * Math.abs(ref.data[i]) + 1e-7) throw new Error(`${name}[${i}]: ${t.data[i]} vs ${ref.data[i]}`);
        // torch rounds to nearest even too, so our encoder must reproduce its bits exactly.
        if (t.data[i] !== halfToFloat(floatToHalf(ref.data[i]))) throw new Error(`${name}[${i}] rounding differs`);
      }
    }
  });

  it('F16 mask buffers decode when not skipped (a lower-triangular causal mask)', async () => {
    const all = await readSafetensorsFile(join(FIXTURE, 'f16', 'model.safetensors'));
    const mask = all.get('h.1.attn.bias')!;
    expect(mask.shape).toEqual([1, 1, 64, 64]);
    expect(mask.data[0 * 64 + 0]).toBe(1);
    expect(mask.data[0 * 64 + 1]).toBe(0);
    expect(mask.data[63 * 64 + 63]).toBe(1);
  });

  it('BF16 variant decodes to the F32 weights rounded to bfloat16', async () => {
    const bf16 = await readSafetensorsFile(join(FIXTURE, 'bf16', 'model.safetensors'));
    expect([...bf16.keys()].sort()).toEqual([...(await expectedShapes()).keys()].sort());
    for (const [name, t] of bf16) {
      const ref = f32.get(`transformer.${name}`)!;
      expect(t.dtype).toBe('BF16');
      for (let i = 0; i < ref.data.length; i++) {
        if (Math.abs(t.data[i] - ref.data[i]) > 1e-2 * Math.abs(ref.data[i]) + 1e-30) {
          throw new Error(`${name}[${i}]: ${t.data[i]} vs ${ref.data[i]}`);
        }
        if (t.data[i] !== roundBf16(ref.data[i])) throw new Error(`${name}[${i}] bf16 rounding differs`);
      }
    }
  });
});

describe('float16 conversion', () => {
  it('encodes known values to the IEEE bit patterns', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65519, 0x7bff], // just below the midpoint to Inf
      [65520, 0x7c00], // the midpoint rounds to even: Inf
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // half of it: tie to even → 0
      [1.5 * 2 ** -25, 0x0001],
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 → even 2
      [2 ** -14, 0x0400], // smallest normal
      [1023.5 * 2 ** -24, 0x0400], // largest subnormal's upper midpoint rounds up into the normals
      [1 + 2 ** -11, 0x3c00], // tie → even mantissa
      [1 + 3 * 2 ** -11, 0x3c02],
      [0, 0x0000],
      [-0, 0x8000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [1e-10, 0x0000],
    ];
    for (const [x, bits] of cases) expect(floatToHalf(x), String(x)).toBe(bits);
    expect(floatToHalf(NaN) & 0x7c00).toBe(0x7c00);
    expect(floatToHalf(NaN) & 0x03ff).not.toBe(0);
  });

  it('decodes every half and re-encodes it to the same bits', () => {
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads are not preserved
      if (floatToHalf(halfToFloat(h)) !== h) throw new Error(`0x${h.toString(16)} does not round-trip`);
    }
  });
});

describe('encoding', () => {
  it('round-trips F32 exactly and F16 within half precision, header padded to 8 with spaces', () => {
    const a = new Float32Array([1, -0, 65504, 2 ** -24, 3.14159, -1e-30, 1e30]);
    const b = new Float32Array([1, -0, 65504, 2 ** -24, 0.1, -123.456]);
    const bytes = encodeSafetensors(
      [
        { name: 'half', shape: [2, 3], data: b, dtype: 'F16' },
        { name: 'full', shape: [7], data: a, dtype: 'F32' },
      ],
      { format: 'pt' },
    );
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLen % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLen));
    expect(JSON.parse(header).__metadata__).toEqual({ format: 'pt' });
    expect(header).toMatch(/} *$/);

    const back = parseSafetensors(bytes, 'mem');
    expect([...back.keys()].sort()).toEqual(['full', 'half']);
    const full = back.get('full')!.data;
    for (let i = 0; i < a.length; i++) expect(Object.is(full[i], a[i])).toBe(true);
    const half = back.get('half')!;
    expect(half.shape).toEqual([2, 3]);
    expect(Array.from(half.data.subarray(0, 4))).toEqual([1, -0, 65504, 2 ** -24]);
    expect(Object.is(half.data[1], -0)).toBe(true);
    expect(half.data[4]).toBeCloseTo(0.1, 3);
    expect(Math.abs(half.data[5] + 123.456)).toBeLessThanOrEqual(123.456 * 2 ** -11);

    // The stored bits, read straight from the data section.
    const offsets = JSON.parse(header).half.data_offsets[0];
    const view = new DataView(bytes.buffer, 8 + headerLen + offsets);
    expect([0, 1, 2, 3].map((i) => view.getUint16(2 * i, true))).toEqual([0x3c00, 0x8000, 0x7bff, 0x0001]);
  });

  it('refuses values it could not read back (NaN, F16 overflow) and mismatched shapes', () => {
    expect(() => encodeSafetensors([{ name: 'x', shape: [1], data: new Float32Array([NaN]), dtype: 'F32' }])).toThrow(/"x"/);
    expect(() => encodeSafetensors([{ name: 'x', shape: [1], data: new Float32Array([70000]), dtype: 'F16' }])).toThrow(/F16/);
    expect(() => encodeSafetensors([{ name: 'x', shape: [3], data: new Float32Array(2), dtype: 'F32' }])).toThrow(/shape/);
    const x = { name: 'x', shape: [1], data: new Float32Array(1), dtype: 'F32' as const };
    expect(() => encodeSafetensors([x, x])).toThrow(/duplicate/);
    // Names that are also Object.prototype members are ordinary tensor names.
    const odd = encodeSafetensors([{ ...x, name: 'toString' }, { ...x, name: '__proto__' }]);
    expect([...parseSafetensors(odd, 'odd').keys()].sort()).toEqual(['__proto__', 'toString']);
  });

  it('reads tensors at unaligned offsets', () => {
    // One F16 value then an F32: the F32 starts 2 bytes into the data section.
    const data = new Uint8Array(2 + 8);
    new DataView(data.buffer).setUint16(0, 0x3c00, true);
    data.set(f32Bytes([2.5, -7]), 2);
    const header = {
      a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
      b: { dtype: 'F32', shape: [2], data_offsets: [2, 10] },
    };
    const t = parseSafetensors(rawFile(header, data), 'odd.safetensors');
    expect(Array.from(t.get('a')!.data)).toEqual([1]);
    expect(Array.from(t.get('b')!.data)).toEqual([2.5, -7]);
  });

  it('writeSafetensorsFile replaces a file atomically and leaves no temp files', async () => {
    const dir = await mkdtemp(join(tmp, 'write-'));
    const path = join(dir, 'out.safetensors');
    await writeFile(path, 'old');
    await writeSafetensorsFile(path, [{ name: 'w', shape: [2], data: new Float32Array([1, 2]), dtype: 'F32' }]);
    expect(await readdir(dir)).toEqual(['out.safetensors']);
    expect(Array.from((await readSafetensorsFile(path)).get('w')!.data)).toEqual([1, 2]);
  });
});

describe('broken files fail loudly, naming the file and tensor', () => {
  const F = 'bad.safetensors';
  const one = (entry: object, data = f32Bytes([1, 2])) => rawFile({ w: entry }, data);

  it('file shorter than 8 bytes', () => {
    expectModelFileError(() => parseSafetensors(new Uint8Array(5), F), F, 'too short');
  });
  it('header length past the end of the file', () => {
    expectModelFileError(() => parseSafetensors(rawFile({}, new Uint8Array(0), 1000n), F), F, 'header length');
  });
  it('header that is not JSON', () => {
    expectModelFileError(() => parseSafetensors(rawFile('{"w": {"dtype": "F32",'), F), F, 'JSON');
  });
  it('offsets beyond the data', () => {
    expectModelFileError(() => parseSafetensors(one({ dtype: 'F32', shape: [4], data_offsets: [0, 16] }), F), F, '"w"', 'run past');
  });
  it('offsets ending before they start', () => {
    expectModelFileError(() => parseSafetensors(one({ dtype: 'F32', shape: [0], data_offsets: [8, 0] }), F), F, '"w"');
  });
  it('byte size that does not match the shape', () => {
    expectModelFileError(() => parseSafetensors(one({ dtype: 'F32', shape: [3], data_offsets: [0, 8] }), F), F, '"w"', 'needs 12');
  });
  it('unsupported dtype names the dtype and the supported ones', () => {
    const err = expectModelFileError(
      () => parseSafetensors(one({ dtype: 'I64', shape: [1], data_offsets: [0, 8] }), F),
      F,
      '"w"',
      'I64',
      'F32, F16, BF16',
    );
    expect(err.file).toBe(F);
  });
  it('skip drops tensors before their dtype is checked', () => {
    const file = rawFile(
      {
        'h.0.attn.masked_bias': { dtype: 'F64', shape: [], data_offsets: [0, 8] },
        'h.0.attn.bias': { dtype: 'U8', shape: [2, 2], data_offsets: [8, 12] },
        'h.0.ln_1.weight': { dtype: 'F32', shape: [2], data_offsets: [12, 20] },
        __metadata__: { format: 'pt' },
      },
      new Uint8Array([...new Uint8Array(12), ...f32Bytes([0.5, 2])]),
    );
    expectModelFileError(() => parseSafetensors(file, F), 'F64');
    const t = parseSafetensors(file, F, { skip: isMaskBuffer });
    expect([...t.keys()]).toEqual(['h.0.ln_1.weight']);
    expect(Array.from(t.get('h.0.ln_1.weight')!.data)).toEqual([0.5, 2]);
  });
  it('byte ranges that overlap, leave a gap, or do not reach the end of the data (skipped tensors included)', () => {
    const data = f32Bytes([1, 2, 3]);
    const two = (a: [number, number], b: [number, number], bytes = data) =>
      rawFile({ a: { dtype: 'F32', shape: [(a[1] - a[0]) / 4], data_offsets: a }, b: { dtype: 'F32', shape: [(b[1] - b[0]) / 4], data_offsets: b } }, bytes);
    expect(parseSafetensors(two([4, 12], [0, 4]), F).size).toBe(2); // out of header order is fine
    expectModelFileError(() => parseSafetensors(two([0, 8], [4, 12]), F), F, '"b"', 'overlap tensor "a"');
    expectModelFileError(() => parseSafetensors(two([0, 4], [8, 12]), F), F, '"b"', '4-byte gap after tensor "a"');
    expectModelFileError(() => parseSafetensors(two([4, 8], [8, 12]), F), F, '"a"', 'gap after the start of the data section');
    expectModelFileError(() => parseSafetensors(two([0, 4], [4, 8]), F), F, '12-byte data section is not covered exactly', 'ends at 8');
    // A skipped mask buffer's bytes count: without them the weights would leave a gap.
    const masked = rawFile({ 'h.0.attn.bias': { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, 'h.0.ln_1.weight': { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data);
    expect([...parseSafetensors(masked, F, { skip: isMaskBuffer }).keys()]).toEqual(['h.0.ln_1.weight']);
    const overlapping = rawFile({ 'h.0.attn.bias': { dtype: 'U8', shape: [8], data_offsets: [0, 8] }, 'h.0.ln_1.weight': { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data);
    expectModelFileError(() => parseSafetensors(overlapping, F, { skip: isMaskBuffer }), '"h.0.ln_1.weight"', 'overlap tensor "h.0.attn.bias"');
  });
  it('NaN or Inf in a tensor', () => {
    const err = expectModelFileError(
      () => parseSafetensors(one({ dtype: 'F32', shape: [2], data_offsets: [0, 8] }, f32Bytes([1, NaN])), F),
      F,
      '"w"',
      'non-finite',
      'weights are corrupt',
    );
    expect(err.fix).toContain('re-export');
    const inf = new Uint8Array([0x00, 0x7c]); // F16 +Inf
    expectModelFileError(() => parseSafetensors(one({ dtype: 'F16', shape: [1], data_offsets: [0, 2] }, inf), F), '"w"');
  });

  it('a truncated real checkpoint and a missing file, read from disk', async () => {
    const bytes = await readFile(join(FIXTURE, 'model.safetensors'));
    const cut = join(tmp, 'cut.safetensors');
    await writeFile(cut, bytes.subarray(0, 1000));
    await expect(readSafetensorsFile(cut)).rejects.toThrow(new RegExp(`${cut}.*header length`));
    await writeFile(cut, bytes.subarray(0, 5000));
    await expect(readSafetensorsFile(cut)).rejects.toThrow(/transformer\.h\.0\.attn\.c_attn\.weight.*run past/);
    await expect(readSafetensorsFile(join(tmp, 'nope.safetensors'))).rejects.toThrow(/nope\.safetensors: file not found/);
  });
});

describe('checkpoint folders', () => {
  it('reads a single-file folder', async () => {
    const { tensors, files } = await readCheckpointTensors(FIXTURE);
    expect(files).toEqual([join(FIXTURE, 'model.safetensors')]);
    expect(tensors.size).toBe(f32.size);
  });

  it('reads a sharded checkpoint written in two halves with an index', async () => {
    const dir = await mkdtemp(join(tmp, 'sharded-'));
    const names = [...f32.keys()];
    const halves = [names.slice(0, 10), names.slice(10)];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of halves.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeSafetensorsFile(
        join(dir, file),
        part.map((n) => ({ name: n, shape: f32.get(n)!.shape, data: f32.get(n)!.data, dtype: 'F32' as const })),
      );
      for (const n of part) weightMap[n] = file;
    }
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const { tensors, files } = await readCheckpointTensors(dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect([...tensors.keys()].sort()).toEqual([...names].sort());
    for (const [n, t] of f32) {
      expect(tensors.get(n)!.shape).toEqual(t.shape);
      expectSameFloats(tensors.get(n)!.data, t.data, n);
    }

    // An index that promises a tensor its shard lacks is corrupt.
    weightMap['transformer.extra'] = 'model-00001-of-00002.safetensors';
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    await expect(readCheckpointTensors(dir)).rejects.toThrow(/transformer\.extra/);
    weightMap['transformer.extra'] = 'model-00003-of-00003.safetensors';
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    await expect(readCheckpointTensors(dir)).rejects.toThrow(/model-00003-of-00003\.safetensors.*missing/);
  });

  it('a folder without safetensors says what it expects, and that pytorch_model.bin is unsupported', async () => {
    const dir = await mkdtemp(join(tmp, 'empty-'));
    const err = await readCheckpointTensors(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain('model.safetensors.index.json');
    expect((err as Error).message).toContain('pytorch_model.bin is not supported');
    await writeFile(join(dir, 'pytorch_model.bin'), 'x');
    await expect(readCheckpointTensors(dir)).rejects.toThrow(/it has pytorch_model\.bin/);
  });
});
