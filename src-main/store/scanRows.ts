// Scan rows: a scan's summary, its per-layer statistics, per-neuron top windows and random windows. Called by
// SqliteStore inside its transactions; a checkpoint writes everything a scan learned since the last one together
// with its progress, so a killed scan resumes exactly where its last checkpoint left it.
import { randomUUID } from 'node:crypto';
import { f32, f64, i32, toBlob, u16, u32 } from './blobs.js';
import { OWNER, ownerAlive } from './owner.js';
import type { SqliteStore } from './sqlite.js';
import type { CorpusRef, ListScansOptions, ModelRef, RandomSlots, RunStatus, ScanCheckpoint, ScanConfig, ScanLayerState, ScanSummary, TopSlots } from './types.js';

type Row = Record<string, unknown>;
const now = () => new Date().toISOString();

export class ScanStateError extends Error {
  override name = 'ScanStateError';
}

/** The config as a canonical string: scans with equal keys produce equal results. */
export function scanConfigKey(c: ScanConfig): string {
  // Neuron scans' keys are as they always were; an SAE scan's adds the SAE's fingerprint.
  return JSON.stringify({
    layers: [...c.layers].sort((a, b) => a - b),
    window: c.window,
    top: c.top,
    random: c.random,
    maxTokens: c.maxTokens,
    seed: c.seed,
    heldOut: c.heldOut,
    sample: c.sample,
    ...(c.sae ? { sae: c.sae.fingerprint } : {}),
  });
}

export function scanSummary(r: Row): ScanSummary {
  return {
    id: r.id as string,
    kind: 'scan',
    model: r.model_spec as string,
    modelFingerprint: r.model as string,
    corpus: r.corpus_spec as string,
    corpusFingerprint: r.corpus as string,
    config: JSON.parse(r.config as string) as ScanConfig,
    status: r.status as RunStatus,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    finishedAt: r.finished_at as string | null,
    windowsTotal: r.windows_total as number,
    windowsDone: r.windows_done as number,
    tokensTotal: r.tokens_total as number,
    tokensDone: r.tokens_done as number,
    elapsedMs: r.elapsed_ms as number,
    error: r.error as string | null,
  };
}

export function insertCorpus(s: SqliteStore, c: CorpusRef): boolean {
  return s.stmt('INSERT OR IGNORE INTO corpora (fingerprint, spec, documents, created_at) VALUES (?, ?, ?, ?)').run(c.fingerprint, c.spec, c.documents, now()).changes > 0;
}

export function createScan(s: SqliteStore, model: ModelRef, corpus: CorpusRef, config: ScanConfig, totals: { windows: number; tokens: number }): ScanSummary {
  s.registerModel(model);
  insertCorpus(s, corpus);
  const id = randomUUID();
  const t = now();
  s.stmt(
    `INSERT INTO scans (id, model, model_spec, corpus, corpus_spec, config, config_key, status, owner, created_at, updated_at, windows_total, tokens_total)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
  ).run(id, model.fingerprint, model.spec, corpus.fingerprint, corpus.spec, JSON.stringify(config), scanConfigKey(config), OWNER, t, t, totals.windows, totals.tokens);
  return getScan(s, id)!;
}

function findWith(s: SqliteStore, model: string, corpus: string, config: ScanConfig, statuses: RunStatus[]): ScanSummary | null {
  const r = s.db
    .prepare(`SELECT * FROM scans WHERE model = ? AND corpus = ? AND config_key = ? AND status IN (${statuses.map(() => '?').join(', ')}) ORDER BY updated_at DESC, rowid DESC LIMIT 1`)
    .get(model, corpus, scanConfigKey(config), ...statuses) as Row | undefined;
  return r ? scanSummary(r) : null;
}

export function findResumable(s: SqliteStore, model: string, corpus: string, config: ScanConfig): ScanSummary | null {
  return findWith(s, model, corpus, config, ['interrupted', 'aborted', 'failed', 'running']);
}

export function findCompleted(s: SqliteStore, model: string, corpus: string, config: ScanConfig): ScanSummary | null {
  return findWith(s, model, corpus, config, ['completed']);
}

export function claimScan(s: SqliteStore, id: string): ScanSummary {
  const r = s.stmt('SELECT * FROM scans WHERE id = ?').get(id) as Row | undefined;
  if (!r) throw new ScanStateError(`no scan ${id} in ${s.path}`);
  if (r.status === 'completed') throw new ScanStateError(`scan ${id} is already complete`);
  const owner = r.owner as string | null;
  if (r.status === 'running' && owner !== OWNER && ownerAlive(owner)) {
    throw new ScanStateError(`scan ${id} is running in another process (${owner}); wait for it or stop it first`);
  }
  s.stmt(`UPDATE scans SET status = 'running', owner = ?, updated_at = ?, finished_at = NULL, error = NULL WHERE id = ?`).run(OWNER, now(), id);
  return getScan(s, id)!;
}

export function layerStateOf(r: Row): ScanLayerState {
  return {
    layer: r.layer as number,
    neurons: r.neurons as number,
    tokens: r.tokens as number,
    sum: f64(r.sum as Buffer),
    positive: f64(r.positive as Buffer),
    max: f32(r.max as Buffer),
    sampled: r.sampled as number,
    ssum: f64(r.ssum as Buffer),
    ssq: f64(r.ssq as Buffer),
    min: f32(r.min as Buffer),
    hist: u32(r.hist as Buffer),
  };
}

export function topSlotsOf(r: Row): TopSlots {
  return {
    layer: r.layer as number,
    neuron: r.neuron as number,
    windows: i32(r.windows as Buffer),
    values: f32(r.vals as Buffer),
    maxAt: u16(r.max_at as Buffer),
    lengths: u16(r.lengths as Buffer),
    acts: f32(r.acts as Buffer),
  };
}

export function randomSlotsOf(r: Row): RandomSlots {
  return { layer: r.layer as number, neuron: r.neuron as number, windows: i32(r.windows as Buffer), lengths: u16(r.lengths as Buffer), acts: f32(r.acts as Buffer) };
}

export function loadScanState(s: SqliteStore, id: string): { stats: ScanLayerState[]; top: TopSlots[]; random: RandomSlots[]; windows: number[] } {
  const stats = (s.stmt('SELECT * FROM neuron_stats WHERE scan_id = ? ORDER BY layer').all(id) as Row[]).map(layerStateOf);
  const top = (s.stmt('SELECT * FROM top_examples WHERE scan_id = ? ORDER BY layer, neuron').all(id) as Row[]).map(topSlotsOf);
  const random = (s.stmt('SELECT * FROM random_examples WHERE scan_id = ? ORDER BY layer, neuron').all(id) as Row[]).map(randomSlotsOf);
  const windows = (s.stmt('SELECT idx FROM scan_windows WHERE scan_id = ?').all(id) as { idx: number }[]).map((r) => r.idx);
  return { stats, top, random, windows };
}

export function writeWindow(s: SqliteStore, id: string, w: { index: number; docId: string; start: number; ids: Buffer; text: string; tokens: string[] }): boolean {
  const r = s.stmt('INSERT OR IGNORE INTO scan_windows (scan_id, idx, doc_id, start, ids, text, tokens) VALUES (?, ?, ?, ?, ?, ?, ?)').run(id, w.index, w.docId, w.start, w.ids, w.text, JSON.stringify(w.tokens));
  if (!r.changes) return false;
  s.stmt('UPDATE scan_windows SET fts = ? WHERE scan_id = ? AND idx = ?').run(s.indexText('window', `${id}:${w.index}`, [w.text]), id, w.index);
  return true;
}

export function writeLayerState(s: SqliteStore, id: string, st: ScanLayerState): void {
  s.stmt('INSERT OR REPLACE INTO neuron_stats (scan_id, layer, neurons, tokens, sum, positive, max, sampled, ssum, ssq, min, hist) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    id,
    st.layer,
    st.neurons,
    st.tokens,
    toBlob(st.sum),
    toBlob(st.positive),
    toBlob(st.max),
    st.sampled,
    toBlob(st.ssum),
    toBlob(st.ssq),
    toBlob(st.min),
    toBlob(st.hist),
  );
}

export function writeTop(s: SqliteStore, id: string, t: TopSlots): void {
  s.stmt('INSERT OR REPLACE INTO top_examples (scan_id, layer, neuron, windows, vals, max_at, lengths, acts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    id,
    t.layer,
    t.neuron,
    toBlob(t.windows),
    toBlob(t.values),
    toBlob(t.maxAt),
    toBlob(t.lengths),
    toBlob(t.acts),
  );
}

export function writeRandom(s: SqliteStore, id: string, r: RandomSlots): void {
  s.stmt('INSERT OR REPLACE INTO random_examples (scan_id, layer, neuron, windows, lengths, acts) VALUES (?, ?, ?, ?, ?, ?)').run(id, r.layer, r.neuron, toBlob(r.windows), toBlob(r.lengths), toBlob(r.acts));
}

export function checkpointScan(s: SqliteStore, id: string, cp: ScanCheckpoint): void {
  const r = s.stmt('SELECT status, owner FROM scans WHERE id = ?').get(id) as { status: string; owner: string } | undefined;
  if (!r) throw new ScanStateError(`no scan ${id} in ${s.path}`);
  if (r.status !== 'running' || r.owner !== OWNER) throw new ScanStateError(`scan ${id} is not running in this process (status ${r.status})`);
  for (const w of cp.windows) writeWindow(s, id, { ...w, ids: toBlob(Int32Array.from(w.ids)) });
  for (const st of cp.stats) writeLayerState(s, id, st);
  for (const t of cp.top) writeTop(s, id, t);
  for (const x of cp.random) writeRandom(s, id, x);
  s.stmt('UPDATE scans SET windows_done = ?, tokens_done = ?, elapsed_ms = ?, updated_at = ? WHERE id = ?').run(cp.windowsDone, cp.tokensDone, cp.elapsedMs, now(), id);
}

/** Windows no top or random row refers to (left behind as top windows were replaced) go, with their index rows. */
function pruneWindows(s: SqliteStore, id: string): number {
  const keep = new Set<number>();
  for (const r of s.stmt('SELECT windows FROM top_examples WHERE scan_id = ?').all(id) as { windows: Buffer }[]) for (const w of i32(r.windows)) keep.add(w);
  for (const r of s.stmt('SELECT DISTINCT windows FROM random_examples WHERE scan_id = ?').all(id) as { windows: Buffer }[]) for (const w of i32(r.windows)) keep.add(w);
  let removed = 0;
  for (const w of s.stmt('SELECT idx, fts FROM scan_windows WHERE scan_id = ?').all(id) as { idx: number; fts: number | null }[]) {
    if (keep.has(w.idx)) continue;
    s.stmt('DELETE FROM scan_windows WHERE scan_id = ? AND idx = ?').run(id, w.idx);
    if (w.fts !== null) s.stmt('DELETE FROM search WHERE rowid = ?').run(w.fts);
    removed++;
  }
  return removed;
}

export function finishScan(s: SqliteStore, id: string, status: Exclude<RunStatus, 'running' | 'interrupted'>, error?: string): void {
  if (status === 'completed') pruneWindows(s, id);
  s.stmt('UPDATE scans SET status = ?, finished_at = ?, updated_at = ?, error = ? WHERE id = ?').run(status, now(), now(), error ?? null, id);
}

export function getScan(s: SqliteStore, id: string): ScanSummary | null {
  const r = s.stmt('SELECT * FROM scans WHERE id = ?').get(id) as Row | undefined;
  return r ? scanSummary(r) : null;
}

export function listScans(s: SqliteStore, opts: ListScansOptions): ScanSummary[] {
  const where: string[] = [];
  const p: Record<string, unknown> = { limit: opts.limit ?? 100 };
  if (opts.model !== undefined) (where.push('model = @model'), (p.model = opts.model));
  if (opts.status !== undefined) (where.push('status = @status'), (p.status = opts.status));
  const sql = `SELECT * FROM scans ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, rowid DESC LIMIT @limit`;
  return (s.db.prepare(sql).all(p) as Row[]).map(scanSummary);
}

function firstScan(s: SqliteStore, model: string, pick: (c: ScanSummary['config']) => boolean): ScanSummary | null {
  const rows = s.stmt(`SELECT * FROM scans WHERE model = ? AND windows_done > 0 ORDER BY status = 'completed' DESC, updated_at DESC, rowid DESC`).all(model) as Row[];
  for (const r of rows) {
    const sum = scanSummary(r);
    if (pick(sum.config)) return sum;
  }
  return null;
}

/** The scan a neuron's page reads: completed first, then the latest, of those that scanned the layer's neurons. */
export function scanFor(s: SqliteStore, model: string, layer: number): ScanSummary | null {
  return firstScan(s, model, (c) => !c.sae && c.layers.includes(layer));
}

/** The scan of an SAE's latents (by the SAE's fingerprint), chosen as scanFor chooses. */
export function saeScanFor(s: SqliteStore, model: string, sae: string): ScanSummary | null {
  return firstScan(s, model, (c) => c.sae?.fingerprint === sae);
}
