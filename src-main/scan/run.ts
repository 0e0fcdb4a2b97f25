// The scan loop: plan windows, resume or start a scan in the store, run batches, checkpoint, report progress as
// typed events. A checkpoint writes everything learned since the previous one together with the progress in one
// transaction, so a killed scan resumes at its last checkpoint and ends with the same results as one never stopped.
//
// Checkpoints come after a batch whenever their estimated cost is at most `checkpointOverhead` (default 5 %) of the
// compute since the previous one: after every batch when writing is cheap relative to the forward passes, less
// often early in a scan (when every neuron's top windows change) or for wide models; and at the latest
// `checkpointIntervalMs` (default 2 min) after the previous one, which bounds the work a crash can lose.
import type { CorpusDocument } from '../corpus/documents.js';
import type { GPT2 } from '../model/gpt2.js';
import { parseHookName } from '../model/hooks.js';
import type { Sae } from '../sae/load.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { CorpusRef, ModelRef, RandomSlots, ScanConfig, ScanSummary, ScanWindowRow, ScanWriter, TopSlots } from '../store/types.js';
import { LayerAccumulator, type BatchWindow } from './accumulate.js';
import { neuronScanGroup, scanBatch, type ScanGroup } from './batch.js';
import { planWindows, type WindowPlan } from './corpus.js';
import { ScanConfigError } from './errors.js';
import { HIST_BINS } from './histogram.js';

export const DEFAULT_SCAN = { window: 64, batch: 8, top: 20, random: 20, seed: 0, sample: 8 } as const;

export { ScanConfigError };

export interface ScanOptions {
  model: GPT2;
  tokenizer: TextTokenizer;
  modelRef: ModelRef;
  corpus: { ref: CorpusRef; docs: CorpusDocument[] };
  config: ScanConfig;
  /** Windows per forward pass (does not change the results). */
  batch: number;
  store: ScanWriter;
  /** The SAE a config with `sae` scans the latents of (loaded; its fingerprint must be the config's). */
  sae?: Sae;
  /** Start a new scan even if an unfinished or finished one with the same settings exists. */
  fresh?: boolean;
  signal?: AbortSignal;
  /** Fraction of compute time checkpoints may take (default 0.05); Infinity checkpoints after every batch. */
  checkpointOverhead?: number;
  /** Longest time between checkpoints, whatever they cost (default 120 000 ms). */
  checkpointIntervalMs?: number;
}

export type ScanEvent =
  | { type: 'plan'; documents: number; windows: number; tokens: number }
  | { type: 'start'; scan: ScanSummary; resumed: boolean; alreadyComplete: boolean }
  | { type: 'progress'; windowsDone: number; windowsTotal: number; tokensDone: number; tokensTotal: number; tokensPerSecond: number; etaMs: number; elapsedMs: number }
  | { type: 'checkpoint'; windowsDone: number; ms: number; bytes: number }
  | { type: 'done'; scan: ScanSummary };

/** Check a config against a model: layers exist, the window fits the context behind its prefix. */
export function checkScanConfig(c: ScanConfig, m: { nLayer: number; nPositions: number }): void {
  if (!c.layers.length) throw new ScanConfigError('--layers is empty: give at least one layer');
  if (c.sae) {
    // An SAE's latents are one group, stored under the layer of the hook it reads.
    const layer = parseHookName(c.sae.hook)?.layer;
    if (layer === undefined || c.layers.length !== 1 || c.layers[0] !== layer) {
      throw new ScanConfigError(`a scan of the SAE ${c.sae.spec} reads ${c.sae.hook}: its layers must be [${layer ?? '?'}], not [${c.layers.join(', ')}]`);
    }
    if (!Number.isInteger(c.sae.latents) || c.sae.latents < 1) throw new ScanConfigError(`the SAE ${c.sae.spec} has ${c.sae.latents} latents`);
  }
  for (const l of c.layers) {
    if (!Number.isInteger(l) || l < 0 || l >= m.nLayer) throw new ScanConfigError(`--layers: layer ${l} is out of range: this model has layers 0-${m.nLayer - 1}`);
  }
  if (!Number.isInteger(c.window) || c.window < 1 || c.window > m.nPositions - 1) {
    throw new ScanConfigError(`--window ${c.window} is out of range: use 1-${m.nPositions - 1} (the context is ${m.nPositions}; one position goes to the <|endoftext|> prefix)`);
  }
  if (c.window > 65535) throw new ScanConfigError('--window must be below 65536');
  if (!Number.isInteger(c.top) || c.top < 1 || c.top > 1000) throw new ScanConfigError(`--top ${c.top} is out of range: use 1-1000`);
  if (!Number.isInteger(c.random) || c.random < 0 || c.random > 1000) throw new ScanConfigError(`--random ${c.random} is out of range: use 0-1000`);
  if (!Number.isInteger(c.sample) || c.sample < 1) throw new ScanConfigError(`--sample ${c.sample} must be a positive integer`);
  if (c.maxTokens !== null && !(c.maxTokens >= 1)) throw new ScanConfigError(`--max-tokens ${c.maxTokens} must be at least 1`);
}

/** The window size to use when none is given: 64, or the context minus the prefix when that is smaller. */
export function defaultWindow(nPositions: number): number {
  return Math.min(DEFAULT_SCAN.window, nPositions - 1);
}

class TokenText {
  private readonly cache = new Map<number, string>();
  constructor(private readonly tok: TextTokenizer) {}
  tokens(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => {
      let s = this.cache.get(id);
      if (s === undefined) this.cache.set(id, (s = this.tok.tokenStrings([id])[0]));
      return s;
    });
  }
}

/** What a scan reads: every chosen layer's MLP neurons, or an SAE's latents (encoded from its hook, thresholded). */
function scanGroups(o: ScanOptions): ScanGroup[] {
  const c = o.config;
  if (!c.sae) return c.layers.map((l) => neuronScanGroup(o.model, l));
  const sae = o.sae!;
  return [{ layer: c.layers[0], units: sae.config.dSae, hook: sae.config.hook.name, read: (h) => sae.encode(h) }];
}

/** Run (or resume) a scan; yields events and returns the stored summary. */
export async function* runScan(o: ScanOptions): AsyncGenerator<ScanEvent, ScanSummary> {
  const c = o.config;
  const mc = o.model.config;
  checkScanConfig(c, mc);
  if (c.sae && o.sae?.config.dSae !== c.sae.latents) {
    throw new ScanConfigError(`the scan of SAE ${c.sae.spec} needs that SAE loaded (${c.sae.latents} latents reading ${c.sae.hook})`);
  }
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new ScanConfigError(`--batch ${o.batch} must be a positive integer`);
  if (!o.fresh) {
    const done = o.store.findCompleted(o.modelRef.fingerprint, o.corpus.ref.fingerprint, c);
    if (done) {
      yield { type: 'start', scan: done, resumed: false, alreadyComplete: true };
      yield { type: 'done', scan: done };
      return done;
    }
  }
  const plan = planWindows(o.corpus.docs, o.tokenizer, c);
  yield { type: 'plan', documents: plan.docs.length, windows: plan.order.length, tokens: plan.tokensTotal };
  const previous = o.fresh ? null : o.store.findResumable(o.modelRef.fingerprint, o.corpus.ref.fingerprint, c);
  if (previous && (previous.windowsTotal !== plan.order.length || previous.tokensTotal !== plan.tokensTotal)) {
    throw new ScanConfigError(
      `scan ${previous.id} planned ${previous.windowsTotal} windows (${previous.tokensTotal} tokens) but the same settings now give ` +
        `${plan.order.length} (${plan.tokensTotal}): the tokenizer changed. Pass --fresh to start over`,
    );
  }
  const scan = previous ? o.store.claimScan(previous.id) : o.store.createScan(o.modelRef, o.corpus.ref, c, { windows: plan.order.length, tokens: plan.tokensTotal });
  let finished = false;
  try {
    const summary = yield* scanLoop(o, plan, scan, previous !== null);
    finished = true;
    return summary;
  } catch (e) {
    o.store.finishScan(scan.id, 'failed', e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    finished = true;
    throw e;
  } finally {
    // The consumer stopped iterating (break, return()): progress up to the last checkpoint stays resumable.
    if (!finished) o.store.finishScan(scan.id, 'aborted');
  }
}

async function* scanLoop(o: ScanOptions, plan: WindowPlan, scan: ScanSummary, resumed: boolean): AsyncGenerator<ScanEvent, ScanSummary> {
  const c = o.config;
  const groups = scanGroups(o);
  const accs = groups.map((g) => new LayerAccumulator(g.layer, g.units, c.top, c.window, c.random));
  const written = new Set<number>();
  if (resumed) {
    const st = o.store.loadScanState(scan.id);
    for (const acc of accs) {
      const s = st.stats.find((x) => x.layer === acc.layer);
      if (s) acc.restore(s, st.top.filter((t) => t.layer === acc.layer), st.random.filter((r) => r.layer === acc.layer));
    }
    for (const w of st.windows) written.add(w);
  }
  yield { type: 'start', scan, resumed, alreadyComplete: false };

  const text = new TokenText(o.tokenizer);
  const overhead = o.checkpointOverhead ?? 0.05;
  const interval = o.checkpointIntervalMs ?? 120_000;
  let lastCheckpoint = performance.now();
  const statsBytes = groups.reduce((a, g) => a + g.units, 0) * (8 * 4 + 4 * 2 + HIST_BINS * 4);
  let windowsDone = scan.windowsDone;
  let tokensDone = scan.tokensDone;
  const priorMs = scan.elapsedMs;
  const t0 = performance.now();
  let sessionTokens = 0;
  let workMs = 0; // compute since the last checkpoint
  let bytesPerMs = 20_000; // bytes written per ms, learned from checkpoints (a conservative start: 20 MB/s)

  const windowRow = (index: number): ScanWindowRow => {
    const w = plan.windows[index];
    const ids = plan.tokens[w.doc].subarray(w.start, w.start + w.len);
    return { index, docId: plan.docs[w.doc].id, start: w.start, ids, text: o.tokenizer.decode(ids), tokens: text.tokens(ids) };
  };

  const checkpoint = (): { ms: number; bytes: number } => {
    const t = performance.now();
    const top: TopSlots[] = [];
    const random: RandomSlots[] = [];
    const need = new Set<number>();
    for (const acc of accs) {
      for (const n of acc.takeDirty()) top.push(acc.slots(n));
      random.push(...acc.takeRandom());
      for (const w of acc.randomWindows()) need.add(w);
    }
    for (const s of top) for (const w of s.windows) need.add(w);
    const windows = [...need].filter((w) => !written.has(w)).map(windowRow);
    let bytes = statsBytes;
    for (const s of top) bytes += s.acts.byteLength + s.windows.length * 12;
    for (const r of random) bytes += r.acts.byteLength;
    o.store.checkpointScan(scan.id, {
      windowsDone,
      tokensDone,
      elapsedMs: priorMs + (performance.now() - t0),
      windows,
      stats: accs.map((a) => a.state),
      top,
      random,
    });
    for (const w of windows) written.add(w.index);
    const ms = performance.now() - t;
    bytesPerMs = 0.5 * bytesPerMs + (0.5 * bytes) / Math.max(ms, 0.1);
    workMs = 0;
    lastCheckpoint = performance.now();
    return { ms, bytes };
  };

  const pendingBytes = () => {
    let b = statsBytes;
    for (const acc of accs) b += acc.dirtyCount() * c.top * c.window * 4 + acc.randomBytes();
    return b;
  };

  let stopped = false;
  for (let p = windowsDone; p < plan.order.length; p += o.batch) {
    if (o.signal?.aborted) {
      stopped = true;
      break;
    }
    const tb = performance.now();
    const idx = plan.order.slice(p, p + o.batch);
    const windows: BatchWindow[] = idx.map((i) => ({ index: i, len: plan.windows[i].len }));
    const mustPull = idx.map((_, b) => p + b < c.random);
    const ids = idx.map((i) => {
      const w = plan.windows[i];
      return plan.tokens[w.doc].subarray(w.start, w.start + w.len);
    });
    const rows = await scanBatch(o.model, groups, accs, { windows, ids, mustPull }, c.sample);
    mustPull.forEach((must, b) => {
      if (must) accs.forEach((acc, li) => acc.addRandom(p + b, windows[b].index, rows[li].get(b)!, windows[b].len));
    });
    const batchTokens = windows.reduce((a, w) => a + w.len, 0);
    windowsDone = p + idx.length;
    tokensDone += batchTokens;
    sessionTokens += batchTokens;
    workMs += performance.now() - tb;
    const elapsed = performance.now() - t0;
    const rate = sessionTokens / (elapsed / 1000);
    yield {
      type: 'progress',
      windowsDone,
      windowsTotal: plan.order.length,
      tokensDone,
      tokensTotal: plan.tokensTotal,
      tokensPerSecond: rate,
      etaMs: rate > 0 ? ((plan.tokensTotal - tokensDone) / rate) * 1000 : Number.NaN,
      elapsedMs: elapsed,
    };
    const due = overhead === Infinity || pendingBytes() / bytesPerMs <= overhead * workMs || performance.now() - lastCheckpoint >= interval;
    if (windowsDone < plan.order.length && due) {
      const cp = checkpoint();
      yield { type: 'checkpoint', windowsDone, ...cp };
    }
  }
  const cp = checkpoint();
  yield { type: 'checkpoint', windowsDone, ...cp };
  o.store.finishScan(scan.id, stopped ? 'aborted' : 'completed');
  const final = o.store.getScan(scan.id)!;
  yield { type: 'done', scan: final };
  return final;
}
