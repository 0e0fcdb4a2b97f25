// Typed arrays in and out of SQLite BLOBs (and base64 for JSON export). Bytes are the platform's little-endian
// layout; every platform textdream runs on (x86-64, arm64) is little-endian.

type Typed = Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array;
type Ctor<T extends Typed> = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): T; new (length: number): T; BYTES_PER_ELEMENT: number };

/** A Buffer view of a typed array (no copy) for binding as a BLOB. */
export function toBlob(a: Typed): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A typed array from a BLOB (copied when the bytes are not aligned for the type). */
export function fromBlob<T extends Typed>(C: Ctor<T>, blob: Uint8Array): T {
  const n = Math.floor(blob.byteLength / C.BYTES_PER_ELEMENT);
  if (blob.byteOffset % C.BYTES_PER_ELEMENT === 0) return new C(blob.buffer, blob.byteOffset, n);
  const copy = new Uint8Array(n * C.BYTES_PER_ELEMENT);
  copy.set(blob.subarray(0, copy.length));
  return new C(copy.buffer, 0, n);
}

export const f32 = (b: Uint8Array) => fromBlob(Float32Array, b);
export const f64 = (b: Uint8Array) => fromBlob(Float64Array, b);
export const i32 = (b: Uint8Array) => fromBlob(Int32Array, b);
export const u32 = (b: Uint8Array) => fromBlob(Uint32Array, b);
export const u16 = (b: Uint8Array) => fromBlob(Uint16Array, b);

export function toBase64(a: Typed | Uint8Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function fromBase64(s: string): Buffer {
  return Buffer.from(s, 'base64');
}
