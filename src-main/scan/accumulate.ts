// Per-layer bookkeeping of a scan in plain typed arrays (no tensors). The backend has already reduced each window
// to per-neuron max, mean and fraction > 0 (scan/batch.ts); per-token values reach JavaScript only for the windows
// that may enter some neuron's top-k (and the random windows) and for a systematic token sample:
//   - exact over every token: count, sum (→ mean), count of activations > 0, max;
//   - over every `sample`-th token of each window (positions 1 + (window mod S), + S, …): histogram, sum of
//     squares (→ std), min. Touching every value in JavaScript would cost as much as the forward pass itself.
// Top windows are ranked by (value desc, window index asc), so what is kept does not depend on the order windows
// arrive in, on batch boundaries, or on where a scan was interrupted and resumed.
import { HIST_BINS, SIDE, ZERO_BIN } from './histogram.js';
import type { RandomSlots, ScanLayerState, TopSlots } from '../store/types.js';

const BASE = (127 - 10) << 2; // see histogram.ts: bits >>> 21 at 2^-10

/** One window of a batch: its index in the corpus and its number of text tokens. */
export interface BatchWindow {
  index: number;
  len: number;
}

/** One layer's view of a batch, after the backend's reductions. */
export interface LayerBatch {
  windows: BatchWindow[];
  /** The batch's padded length: positions 1…T follow the <|endoftext|> prefix. */
  T: number;
  /** [B, N] over positions 1…T (padding included: use only for windows with len === T). */
  wmax: Float32Array;
  wmean: Float32Array;
  wpos: Float32Array;
  /** Per-token activations [len, N] of the windows pulled: every padded window and every window `wanted` named. */
  rows: Map<number, Float32Array>;
  /** The sampled token rows [R, N], in `sampleRows` order. */
  sample: Float32Array;
}

/** Rows (b·T1 + t, into the batch flattened to [B·T1, N]) of the token sample: t = 1 + (index mod S) + j·S ≤ len. */
export function sampleRows(windows: BatchWindow[], T1: number, S: number): number[] {
  const rows: number[] = [];
  windows.forEach((w, b) => {
    for (let t = 1 + (w.index % S); t <= w.len; t += S) rows.push(b * T1 + t);
  });
  return rows;
}

export class LayerAccumulator {
  readonly state: ScanLayerState;
  /** Slots [neuron * k + slot]. */
  private readonly topVal: Float32Array;
  private readonly topWin: Int32Array;
  private readonly topAt: Uint16Array;
  private readonly topLen: Uint16Array;
  /** [neuron * k + slot] * window + t. */
  private readonly topActs: Float32Array;
  private readonly count: Int32Array;
  /** The weakest kept window of each full neuron (the one a better window replaces). */
  private readonly thrVal: Float32Array;
  private readonly thrWin: Int32Array;
  private readonly thrSlot: Int32Array;
  /** Neurons whose top windows changed since the last `takeDirty`. */
  private readonly dirty: Uint8Array;
  private readonly pmax: Float32Array;
  private readonly psum: Float64Array;
  private readonly ppos: Float64Array;
  /** Random windows, slots in sample order: [neuron * R + slot] * window + t. */
  private readonly randWin: Int32Array;
  private readonly randLen: Uint16Array;
  private readonly randActs: Float32Array;
  private randCount = 0;
  private randDirty = false;

  constructor(
    readonly layer: number,
    readonly neurons: number,
    readonly k: number,
    readonly window: number,
    readonly random = 0,
  ) {
    const N = neurons;
    this.state = {
      layer,
      neurons: N,
      tokens: 0,
      sum: new Float64Array(N),
      positive: new Float64Array(N),
      max: new Float32Array(N).fill(-Infinity),
      sampled: 0,
      ssum: new Float64Array(N),
      ssq: new Float64Array(N),
      min: new Float32Array(N).fill(Infinity),
      hist: new Uint32Array(N * HIST_BINS),
    };
    this.topVal = new Float32Array(N * k).fill(-Infinity);
    this.topWin = new Int32Array(N * k).fill(-1);
    this.topAt = new Uint16Array(N * k);
    this.topLen = new Uint16Array(N * k);
    this.topActs = new Float32Array(N * k * window);
    this.count = new Int32Array(N);
    this.thrVal = new Float32Array(N).fill(-Infinity);
    this.thrWin = new Int32Array(N).fill(-1);
    this.thrSlot = new Int32Array(N);
    this.dirty = new Uint8Array(N);
    this.randWin = new Int32Array(random);
    this.randLen = new Uint16Array(random);
    this.randActs = new Float32Array(N * random * window);
    this.pmax = new Float32Array(N);
    this.psum = new Float64Array(N);
    this.ppos = new Float64Array(N);
  }

  private qualifies(n: number, v: number, w: number): boolean {
    return this.count[n] < this.k || v > this.thrVal[n] || (v === this.thrVal[n] && w < this.thrWin[n]);
  }

  /** Marks (in `out`) the windows whose per-token values are needed: padded ones and any that may enter a top-k. */
  wanted(windows: BatchWindow[], T: number, wmax: Float32Array, out: boolean[]): void {
    const N = this.neurons;
    windows.forEach((w, b) => {
      if (out[b] || !w.len) return;
      if (w.len < T) return void (out[b] = true);
      for (let n = 0; n < N; n++) {
        if (this.qualifies(n, wmax[b * N + n], w.index)) return void (out[b] = true);
      }
    });
  }

  add(batch: LayerBatch): void {
    const N = this.neurons;
    const { sum, positive, max } = this.state;
    batch.windows.forEach((w, b) => {
      const len = w.len;
      if (!len) return;
      const rows = batch.rows.get(b);
      let wmax = batch.wmax.subarray(b * N, (b + 1) * N);
      if (len < batch.T) {
        // Padding inside the backend's reductions: this window's values are recomputed from its own tokens.
        if (!rows) throw new Error(`scan: padded window ${w.index} was not pulled`);
        this.reduceRows(rows, len);
        wmax = this.pmax;
        for (let n = 0; n < N; n++) (sum[n] += this.psum[n]), (positive[n] += this.ppos[n]);
      } else {
        const mean = batch.wmean.subarray(b * N, (b + 1) * N);
        const pos = batch.wpos.subarray(b * N, (b + 1) * N);
        for (let n = 0; n < N; n++) (sum[n] += mean[n] * len), (positive[n] += Math.round(pos[n] * len));
      }
      this.state.tokens += len;
      for (let n = 0; n < N; n++) {
        const v = wmax[n];
        if (v > max[n]) max[n] = v;
        if (!this.qualifies(n, v, w.index)) continue;
        if (!rows) throw new Error(`scan: window ${w.index} may enter the top windows of neuron ${n} but was not pulled`);
        this.insert(n, v, w.index, rows, len);
      }
    });
    this.addSample(batch.sample);
  }

  private reduceRows(rows: Float32Array, len: number): void {
    const N = this.neurons;
    this.pmax.fill(-Infinity);
    this.psum.fill(0);
    this.ppos.fill(0);
    for (let t = 0; t < len; t++) {
      for (let n = 0; n < N; n++) {
        const v = rows[t * N + n];
        this.psum[n] += v;
        if (v > 0) this.ppos[n]++;
        if (v > this.pmax[n]) this.pmax[n] = v;
      }
    }
  }

  private addSample(sample: Float32Array): void {
    const N = this.neurons;
    const R = sample.length / N;
    const bits = new Int32Array(sample.buffer, sample.byteOffset, sample.length);
    const { ssum, ssq, min, hist } = this.state;
    for (let r = 0; r < R; r++) {
      const row = r * N;
      for (let n = 0; n < N; n++) {
        const v = sample[row + n];
        ssum[n] += v;
        ssq[n] += v * v;
        if (v < min[n]) min[n] = v;
        const x = bits[row + n];
        const i = ((x & 0x7fffffff) >>> 21) - BASE;
        const j = i >= SIDE ? SIDE - 1 : i;
        hist[n * HIST_BINS + (i < 0 ? ZERO_BIN : x < 0 ? SIDE - 1 - j : SIDE + 1 + j)]++;
      }
    }
    this.state.sampled += R;
  }

  /** `v` is the window's maximum (exact: pooling returns one of the values); one pass copies the tokens and finds
   * where the maximum first occurs. */
  private insert(n: number, v: number, w: number, rows: Float32Array, len: number): void {
    const k = this.k;
    const N = this.neurons;
    const slot = this.count[n] < k ? this.count[n]++ : this.thrSlot[n];
    const s = n * k + slot;
    const base = s * this.window;
    const acts = this.topActs;
    let at = -1;
    for (let t = 0; t < len; t++) {
      const x = rows[t * N + n];
      acts[base + t] = x;
      if (at < 0 && x === v) at = t;
    }
    this.topVal[s] = v;
    this.topWin[s] = w;
    this.topAt[s] = at < 0 ? 0 : at;
    this.topLen[s] = len;
    if (this.count[n] === k) this.updateThreshold(n);
    this.dirty[n] = 1;
  }

  /** The weakest kept window: lowest value, and among equal values the highest window index. */
  private updateThreshold(n: number): void {
    const k = this.k;
    let at = n * k;
    for (let s = n * k + 1; s < n * k + k; s++) {
      const v = this.topVal[s];
      if (v < this.topVal[at] || (v === this.topVal[at] && this.topWin[s] > this.topWin[at])) at = s;
    }
    this.thrVal[n] = this.topVal[at];
    this.thrWin[n] = this.topWin[at];
    this.thrSlot[n] = at - n * k;
  }

  /** Keep a pulled window [len, N] as random-sample slot `slot` (slots fill in order). */
  addRandom(slot: number, window: number, rows: Float32Array, len: number): void {
    const N = this.neurons;
    const R = this.random;
    this.randWin[slot] = window;
    this.randLen[slot] = len;
    for (let n = 0; n < N; n++) {
      const base = (n * R + slot) * this.window;
      for (let t = 0; t < len; t++) this.randActs[base + t] = rows[t * N + n];
    }
    this.randCount = Math.max(this.randCount, slot + 1);
    this.randDirty = true;
  }

  /** Every neuron's random windows when the sample grew since the last call, else []. */
  takeRandom(): RandomSlots[] {
    if (!this.randDirty) return [];
    this.randDirty = false;
    const c = this.randCount;
    const lengths = this.randLen.slice(0, c);
    const windows = this.randWin.slice(0, c);
    let total = 0;
    for (const l of lengths) total += l;
    const out: RandomSlots[] = [];
    for (let n = 0; n < this.neurons; n++) {
      const acts = new Float32Array(total);
      let at = 0;
      for (let s = 0; s < c; s++) {
        const base = (n * this.random + s) * this.window;
        acts.set(this.randActs.subarray(base, base + lengths[s]), at);
        at += lengths[s];
      }
      out.push({ layer: this.layer, neuron: n, windows, lengths, acts });
    }
    return out;
  }

  /** Bytes the next takeRandom would hand over. */
  randomBytes(): number {
    return this.randDirty ? this.neurons * this.randCount * this.window * 4 : 0;
  }

  randomWindows(): Int32Array {
    return this.randWin.subarray(0, this.randCount);
  }

  /** One neuron's kept windows as stored (copies). */
  slots(n: number): TopSlots {
    const k = this.k;
    const c = this.count[n];
    const lengths = this.topLen.slice(n * k, n * k + c);
    let total = 0;
    for (const l of lengths) total += l;
    const acts = new Float32Array(total);
    let at = 0;
    for (let s = 0; s < c; s++) {
      const base = (n * k + s) * this.window;
      acts.set(this.topActs.subarray(base, base + lengths[s]), at);
      at += lengths[s];
    }
    return {
      layer: this.layer,
      neuron: n,
      windows: this.topWin.slice(n * k, n * k + c),
      values: this.topVal.slice(n * k, n * k + c),
      maxAt: this.topAt.slice(n * k, n * k + c),
      lengths,
      acts,
    };
  }

  /** Neurons whose top windows changed since the last call (and clears the marks). */
  takeDirty(): number[] {
    const out: number[] = [];
    for (let n = 0; n < this.neurons; n++) if (this.dirty[n]) (out.push(n), (this.dirty[n] = 0));
    return out;
  }

  dirtyCount(): number {
    let c = 0;
    for (let n = 0; n < this.neurons; n++) c += this.dirty[n];
    return c;
  }

  /** Continue from a checkpoint. */
  restore(st: ScanLayerState, tops: TopSlots[], random: RandomSlots[] = []): void {
    if (st.neurons !== this.neurons || st.hist.length !== this.state.hist.length) {
      throw new Error(`stored state of layer ${this.layer} has ${st.neurons} neurons, the model ${this.neurons}`);
    }
    const s = this.state;
    s.tokens = st.tokens;
    s.sampled = st.sampled;
    for (const key of ['sum', 'positive', 'max', 'ssum', 'ssq', 'min', 'hist'] as const) (s[key] as Float64Array).set(st[key] as Float64Array);
    for (const t of tops) {
      const n = t.neuron;
      const c = Math.min(t.windows.length, this.k);
      let at = 0;
      for (let slot = 0; slot < c; slot++) {
        const i = n * this.k + slot;
        this.topVal[i] = t.values[slot];
        this.topWin[i] = t.windows[slot];
        this.topAt[i] = t.maxAt[slot];
        this.topLen[i] = t.lengths[slot];
        this.topActs.set(t.acts.subarray(at, at + t.lengths[slot]), i * this.window);
        at += t.lengths[slot];
      }
      this.count[n] = c;
      if (c === this.k) this.updateThreshold(n);
    }
    for (const r of random) {
      const c = Math.min(r.windows.length, this.random);
      let at = 0;
      for (let slot = 0; slot < c; slot++) {
        this.randWin[slot] = r.windows[slot];
        this.randLen[slot] = r.lengths[slot];
        this.randActs.set(r.acts.subarray(at, at + r.lengths[slot]), (r.neuron * this.random + slot) * this.window);
        at += r.lengths[slot];
      }
      this.randCount = Math.max(this.randCount, c);
    }
  }
}
