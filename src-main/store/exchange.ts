// The whole history as one JSON document, and back. Import is idempotent: every row is matched by its id (scan,
// dream run, explanation) or fingerprint (model, corpus); rows already present are left alone. Binary arrays
// travel as base64 of their little-endian bytes, so numbers round-trip exactly.
import { closeSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { f32, f64, fromBase64, i32, toBase64, u16, u32 } from './blobs.js';
import { explanationOf } from './rows.js';
import { insertCorpus, layerStateOf, randomSlotsOf, scanConfigKey, topSlotsOf, writeLayerState, writeRandom, writeTop, writeWindow } from './scanRows.js';
import { SCHEMA_VERSION } from './schema.js';
import type { SqliteStore } from './sqlite.js';
import type { CorpusRef, DreamRunDetail, ExportedScan, HistoryFile, ImportReport, ScanSummary } from './types.js';

type Row = Record<string, unknown>;

export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
}

function exportScan(s: SqliteStore, summary: ScanSummary): ExportedScan {
  const id = summary.id;
  const windows = (s.stmt('SELECT * FROM scan_windows WHERE scan_id = ? ORDER BY idx').all(id) as Row[]).map((w) => ({
    index: w.idx as number,
    docId: w.doc_id as string,
    start: w.start as number,
    ids: toBase64(i32(w.ids as Buffer)),
    text: w.text as string,
    tokens: JSON.parse(w.tokens as string) as string[],
  }));
  const stats = (s.stmt('SELECT * FROM neuron_stats WHERE scan_id = ? ORDER BY layer').all(id) as Row[]).map(layerStateOf).map((st) => ({
    layer: st.layer,
    tokens: st.tokens,
    sampled: st.sampled,
    neurons: st.neurons,
    sum: toBase64(st.sum),
    positive: toBase64(st.positive),
    max: toBase64(st.max),
    ssum: toBase64(st.ssum),
    ssq: toBase64(st.ssq),
    min: toBase64(st.min),
    hist: toBase64(st.hist),
  }));
  const top = (s.stmt('SELECT * FROM top_examples WHERE scan_id = ? ORDER BY layer, neuron').all(id) as Row[]).map(topSlotsOf).map((t) => ({
    layer: t.layer,
    neuron: t.neuron,
    windows: toBase64(t.windows),
    values: toBase64(t.values),
    maxAt: toBase64(t.maxAt),
    lengths: toBase64(t.lengths),
    acts: toBase64(t.acts),
  }));
  const random = (s.stmt('SELECT * FROM random_examples WHERE scan_id = ? ORDER BY layer, neuron').all(id) as Row[]).map(randomSlotsOf).map((r) => ({
    layer: r.layer,
    neuron: r.neuron,
    windows: toBase64(r.windows),
    lengths: toBase64(r.lengths),
    acts: toBase64(r.acts),
  }));
  return { summary, windows, stats, top, random };
}

function dreamRuns(s: SqliteStore): (DreamRunDetail & { modelFingerprint: string })[] {
  const rows = s.stmt('SELECT id, model FROM dream_runs ORDER BY created_at, rowid').all() as { id: string; model: string }[];
  return rows.map((r) => ({ ...s.getDreamRun(r.id)!, modelFingerprint: r.model }));
}

function header(): Pick<HistoryFile, 'format' | 'schemaVersion' | 'exportedAt'> {
  return { format: 'textdream-history', schemaVersion: SCHEMA_VERSION, exportedAt: new Date().toISOString() };
}

function corpora(s: SqliteStore): CorpusRef[] {
  return (s.stmt('SELECT * FROM corpora ORDER BY created_at').all() as Row[]).map((c) => ({ spec: c.spec as string, fingerprint: c.fingerprint as string, documents: c.documents as number }));
}

export function exportHistory(s: SqliteStore): HistoryFile {
  return {
    ...header(),
    models: s.listModels(),
    corpora: corpora(s),
    scans: s.listScans({ limit: 1e9 }).reverse().map((sc) => exportScan(s, sc)),
    dreamRuns: dreamRuns(s),
    explanations: (s.stmt('SELECT * FROM explanations ORDER BY created_at, rowid').all() as Row[]).map(explanationOf),
  };
}

/** The same document as exportHistory, written piece by piece (a large scan never sits in memory as one string),
 * to a temporary file renamed into place. */
export function writeHistoryFile(s: SqliteStore, path: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const w = (text: string) => writeSync(fd, text);
    const list = <T>(items: T[] | (() => Iterable<T>), last = false) => {
      w('[');
      let first = true;
      for (const item of typeof items === 'function' ? items() : items) {
        w((first ? '\n  ' : ',\n  ') + JSON.stringify(item));
        first = false;
      }
      w(first ? ']' : '\n]');
      w(last ? '\n' : ',\n');
    };
    const h = header();
    w(`{"format":${JSON.stringify(h.format)},"schemaVersion":${h.schemaVersion},"exportedAt":${JSON.stringify(h.exportedAt)},\n`);
    w('"models":');
    list(s.listModels());
    w('"corpora":');
    list(corpora(s));
    w('"scans":');
    const summaries = s.listScans({ limit: 1e9 }).reverse();
    list(function* () {
      for (const sc of summaries) yield exportScan(s, sc);
    });
    w('"dreamRuns":');
    list(dreamRuns(s));
    w('"explanations":');
    list((s.stmt('SELECT * FROM explanations ORDER BY created_at, rowid').all() as Row[]).map(explanationOf), true);
    w('}\n');
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readHistoryFile(path: string): HistoryFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HistoryFormatError(`${path}: not a readable JSON file (${(e as Error).message})`);
  }
  return checkHistory(parsed, path);
}

export function checkHistory(v: unknown, label = 'history'): HistoryFile {
  const f = v as Partial<HistoryFile> | null;
  if (!f || typeof f !== 'object' || f.format !== 'textdream-history') {
    throw new HistoryFormatError(`${label}: not a textdream history export (expected "format": "textdream-history")`);
  }
  if (typeof f.schemaVersion !== 'number' || f.schemaVersion > SCHEMA_VERSION) {
    throw new HistoryFormatError(`${label}: written by a newer textdream (schema ${f.schemaVersion}, this one reads up to ${SCHEMA_VERSION}); upgrade textdream`);
  }
  for (const k of ['models', 'corpora', 'scans', 'dreamRuns', 'explanations'] as const) {
    if (!Array.isArray(f[k])) throw new HistoryFormatError(`${label}: "${k}" must be a list`);
  }
  return f as HistoryFile;
}

function importScan(s: SqliteStore, x: ExportedScan): boolean {
  const m = x.summary;
  if (s.stmt('SELECT 1 FROM scans WHERE id = ?').get(m.id)) return false;
  // A scan exported while running arrives interrupted: no process here owns it.
  const status = m.status === 'running' ? 'interrupted' : m.status;
  if (!s.stmt('SELECT 1 FROM models WHERE fingerprint = ?').get(m.modelFingerprint)) {
    s.registerModel({ spec: m.model, dir: '', fingerprint: m.modelFingerprint, nLayer: 0, dModel: 0, dMlp: 0 });
  }
  insertCorpus(s, { spec: m.corpus, fingerprint: m.corpusFingerprint, documents: 0 });
  s.stmt(
    `INSERT INTO scans (id, model, model_spec, corpus, corpus_spec, config, config_key, status, owner, created_at, updated_at, finished_at,
       windows_total, windows_done, tokens_total, tokens_done, elapsed_ms, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(m.id, m.modelFingerprint, m.model, m.corpusFingerprint, m.corpus, JSON.stringify(m.config), scanConfigKey(m.config), status, m.createdAt, m.updatedAt, m.finishedAt, m.windowsTotal, m.windowsDone, m.tokensTotal, m.tokensDone, m.elapsedMs, m.error);
  for (const w of x.windows) writeWindow(s, m.id, { index: w.index, docId: w.docId, start: w.start, ids: fromBase64(w.ids), text: w.text, tokens: w.tokens });
  for (const st of x.stats) {
    writeLayerState(s, m.id, {
      layer: st.layer,
      neurons: st.neurons,
      tokens: st.tokens,
      sum: f64(fromBase64(st.sum)),
      positive: f64(fromBase64(st.positive)),
      max: f32(fromBase64(st.max)),
      sampled: st.sampled,
      ssum: f64(fromBase64(st.ssum)),
      ssq: f64(fromBase64(st.ssq)),
      min: f32(fromBase64(st.min)),
      hist: u32(fromBase64(st.hist)),
    });
  }
  for (const t of x.top) {
    writeTop(s, m.id, {
      layer: t.layer,
      neuron: t.neuron,
      windows: i32(fromBase64(t.windows)),
      values: f32(fromBase64(t.values)),
      maxAt: u16(fromBase64(t.maxAt)),
      lengths: u16(fromBase64(t.lengths)),
      acts: f32(fromBase64(t.acts)),
    });
  }
  for (const r of x.random) writeRandom(s, m.id, { layer: r.layer, neuron: r.neuron, windows: i32(fromBase64(r.windows)), lengths: u16(fromBase64(r.lengths)), acts: f32(fromBase64(r.acts)) });
  return true;
}

function importRun(s: SqliteStore, r: DreamRunDetail & { modelFingerprint: string }): boolean {
  if (s.stmt('SELECT 1 FROM dream_runs WHERE id = ?').get(r.id)) return false;
  if (!s.stmt('SELECT 1 FROM models WHERE fingerprint = ?').get(r.modelFingerprint)) {
    // A run whose model row is missing from the file still imports, under a minimal model row.
    s.registerModel({ spec: r.model, dir: '', fingerprint: r.modelFingerprint, nLayer: 0, dModel: 0, dMlp: 0 });
  }
  const status = r.status === 'running' ? 'interrupted' : r.status;
  s.stmt(
    `INSERT INTO dream_runs (id, model, model_spec, target, layer, neuron, method, config, status, created_at, finished_at, steps, records,
       best_text, best_value, best_ce, result, error, owner)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
  ).run(r.id, r.modelFingerprint, r.model, r.target, r.layer, r.neuron, r.method, JSON.stringify(r.config), status, r.createdAt, r.finishedAt, r.steps, r.records.length, r.bestText, r.bestValue, r.bestCE, r.result ? JSON.stringify(r.result) : null, r.error);
  for (const rec of r.records) {
    s.stmt('INSERT INTO dream_steps (run_id, step, soft, best, record) VALUES (?, ?, ?, ?, ?)').run(r.id, rec.step, Number.isFinite(rec.soft) ? rec.soft : null, rec.best, JSON.stringify(rec));
    s.indexText('dream', r.id, rec.dreams.map((d) => d.text));
  }
  if (r.result) s.indexText('dream', r.id, [...r.result.initial, ...r.result.bestPerLabel].map((d) => d.text));
  return true;
}

/** Call inside a transaction (SqliteStore.importHistory does). */
export function importHistory(s: SqliteStore, input: HistoryFile): ImportReport {
  const file = checkHistory(input);
  const rep: ImportReport = { models: 0, corpora: 0, scans: 0, dreamRuns: 0, explanations: 0, skipped: 0 };
  const count = (added: boolean, key: Exclude<keyof ImportReport, 'skipped'>) => (added ? rep[key]++ : rep.skipped++);
  for (const m of file.models) {
    const added = s.stmt('INSERT OR IGNORE INTO models (fingerprint, spec, dir, n_layer, d_model, d_mlp, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(m.fingerprint, m.spec, m.dir, m.nLayer, m.dModel, m.dMlp, new Date().toISOString()).changes > 0;
    count(added, 'models');
  }
  for (const c of file.corpora) count(insertCorpus(s, c), 'corpora');
  for (const x of file.scans) count(importScan(s, x), 'scans');
  for (const r of file.dreamRuns) count(importRun(s, r), 'dreamRuns');
  for (const e of file.explanations) count(s.insertExplanation(e), 'explanations');
  return rep;
}
