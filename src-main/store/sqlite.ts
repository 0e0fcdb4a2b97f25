// The experiment store on SQLite (better-sqlite3). One file, WAL journal, every write in one transaction.
//
// Durability: WAL with synchronous=NORMAL. A commit is appended to the WAL with write() before it returns, so a
// process killed at any point (SIGKILL, crash) loses nothing committed and never leaves a partial transaction;
// only a power cut or OS crash can drop the last few commits (never corrupt the file). Everything stored is
// recomputable (dreams re-run, scans resume from their last checkpoint), while FULL would fsync on every dream
// step and scan checkpoint. Runs whose owning process is gone become 'interrupted' when a store opens.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { WireDreamConfig as DreamConfig } from '../dream/settings/types.js';
import type { DreamResult, StepRecord } from '../dream/loop.js';
import { exportHistory, importHistory } from './exchange.js';
import { OWNER, ownerAlive } from './owner.js';
import { buildNeuronPage } from './pages.js';
import { explanationOf, ftsQuery, runSummary, targetLabel } from './rows.js';
import { migrate, SCHEMA_VERSION, StoreOpenError } from './schema.js';
import * as scans from './scanRows.js';
import * as sweeps from './sweepRows.js';
import type {
  CorpusRef,
  DreamRunDetail,
  DreamRunSummary,
  Explanation,
  ExperimentHistory,
  HistoryFile,
  ImportReport,
  ListScansOptions,
  ModelRef,
  NeuronPageData,
  NewExplanation,
  RandomSlots,
  RunStatus,
  ScanCheckpoint,
  ScanConfig,
  ScanLayerState,
  ScanSummary,
  ScanWriter,
  SearchHit,
  SweepClaim,
  SweepCompletion,
  SweepStore,
  TopSlots,
} from './types.js';
import type { SweptNeuron, SweepJobKey, SweepJobState, SweepPageRow, SweepSettings } from '../sweep/types.js';

export type DB = Database.Database;
type Row = Record<string, unknown>;

export { OWNER, ownerAlive, targetLabel, ftsQuery };

const now = () => new Date().toISOString();
const json = (v: unknown) => JSON.stringify(v);
const finite = (x: number | undefined | null) => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export class SqliteStore implements ExperimentHistory, ScanWriter, SweepStore {
  readonly db: DB;
  readonly schemaVersion: number;
  /** Versions before and after opening (from 0 for a new file). */
  readonly migrated: { from: number; to: number };
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly path: string) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
    } catch (e) {
      throw new StoreOpenError(`cannot open the experiment store ${path} (${(e as Error).message}): pass --db <file> or set TEXTDREAM_DB to a writable file`);
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 10000');
      this.migrated = migrate(this.db, path);
      this.schemaVersion = SCHEMA_VERSION;
      this.recover();
    } catch (e) {
      this.db.close();
      if ((e as { code?: string }).code === 'SQLITE_NOTADB') throw new StoreOpenError(`${path} is not a textdream store (not an SQLite database): pass --db <file> or set TEXTDREAM_DB`);
      throw e;
    }
  }

  /** A cached prepared statement. */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  /** Run `fn` in one IMMEDIATE transaction (the write lock is taken up front, so no deadlock on upgrade). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Runs, scans and sweep jobs left 'running' by processes that no longer exist become 'interrupted'. */
  private recover(): void {
    this.tx(() => {
      for (const table of ['dream_runs', 'scans'] as const) {
        const rows = this.stmt(`SELECT id, owner FROM ${table} WHERE status = 'running'`).all() as { id: string; owner: string | null }[];
        for (const r of rows) if (!ownerAlive(r.owner)) this.stmt(`UPDATE ${table} SET status = 'interrupted' WHERE id = ?`).run(r.id);
      }
      sweeps.recoverSweepJobs(this);
    });
  }

  registerModel(m: ModelRef): void {
    this.stmt(
      `INSERT INTO models (fingerprint, spec, dir, n_layer, d_model, d_mlp, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(fingerprint) DO UPDATE SET spec = excluded.spec, dir = excluded.dir`,
    ).run(m.fingerprint, m.spec, m.dir, m.nLayer, m.dModel, m.dMlp, now());
  }

  /** A model's fingerprint from a fingerprint or a spec (the newest model row with that spec). */
  resolveModel(model: string): { fingerprint: string; spec: string } | null {
    const r = (this.stmt('SELECT fingerprint, spec FROM models WHERE fingerprint = ?').get(model) ??
      this.stmt('SELECT fingerprint, spec FROM models WHERE spec = ? ORDER BY created_at DESC LIMIT 1').get(model)) as
      | { fingerprint: string; spec: string }
      | undefined;
    return r ?? null;
  }

  listModels(): ModelRef[] {
    return (this.stmt('SELECT * FROM models ORDER BY created_at').all() as Row[]).map((r) => ({
      spec: r.spec as string,
      dir: r.dir as string,
      fingerprint: r.fingerprint as string,
      nLayer: r.n_layer as number,
      dModel: r.d_model as number,
      dMlp: r.d_mlp as number,
    }));
  }

  // ---------------------------------------------------------------------------------------------- dreams

  startDreamRun(model: ModelRef, config: DreamConfig): string {
    const id = randomUUID();
    const t = config.target;
    this.tx(() => {
      this.registerModel(model);
      this.stmt(
        `INSERT INTO dream_runs (id, model, model_spec, target, layer, neuron, method, config, status, created_at, owner)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
      ).run(id, model.fingerprint, model.spec, targetLabel(t), t.kind === 'neuron' ? t.layer : null, t.kind === 'neuron' ? t.neuron : null, config.method, json(config), now(), OWNER);
    });
    return id;
  }

  appendDreamStep(runId: string, record: StepRecord): void {
    const b = record.dreams[record.best];
    const value = finite(b?.value);
    this.tx(() => {
      this.stmt(
        `UPDATE dream_runs SET steps = @step, records = records + 1,
           best_text = CASE WHEN @v IS NOT NULL AND (best_value IS NULL OR @v > best_value) THEN @text ELSE best_text END,
           best_ce = CASE WHEN @v IS NOT NULL AND (best_value IS NULL OR @v > best_value) THEN @ce ELSE best_ce END,
           best_value = CASE WHEN @v IS NOT NULL AND (best_value IS NULL OR @v > best_value) THEN @v ELSE best_value END
         WHERE id = @id`,
      ).run({ step: record.step, v: value, text: b?.text ?? null, ce: finite(b?.ce), id: runId });
      this.stmt('INSERT INTO dream_steps (run_id, step, soft, best, record) VALUES (?, ?, ?, ?, ?)').run(runId, record.step, finite(record.soft), record.best, json(record));
      this.indexText('dream', runId, record.dreams.map((d) => d.text));
    });
  }

  finishDreamRun(runId: string, status: Exclude<RunStatus, 'running' | 'interrupted'>, result: DreamResult | null, error?: string): void {
    this.tx(() => {
      const best = result?.best ?? null;
      this.stmt(
        `UPDATE dream_runs SET status = @status, finished_at = @at, result = @result, error = @error,
           steps = COALESCE(@steps, steps),
           best_text = CASE WHEN @v IS NOT NULL THEN @text ELSE best_text END,
           best_ce = CASE WHEN @v IS NOT NULL THEN @ce ELSE best_ce END,
           best_value = COALESCE(@v, best_value)
         WHERE id = @id`,
      ).run({ status, at: now(), result: result ? json(result) : null, error: error ?? null, steps: result?.steps ?? null, v: finite(best?.value), text: best?.text ?? null, ce: finite(best?.ce), id: runId });
      if (result) this.indexText('dream', runId, [...result.initial, ...result.bestPerLabel].map((d) => d.text));
    });
  }

  /** Adds a row to the full-text index; returns its rowid. */
  indexText(kind: SearchHit['kind'], ref: string, texts: string[]): number {
    const body = texts.filter((t) => t).join('\n');
    return Number(this.stmt('INSERT INTO search (body, kind, ref) VALUES (?, ?, ?)').run(body, kind, ref).lastInsertRowid);
  }

  listRuns(opts: { search?: string; layer?: number; neuron?: number; limit?: number; model?: string } = {}): DreamRunSummary[] {
    const where: string[] = [];
    const p: Record<string, unknown> = { limit: opts.limit ?? 100 };
    if (opts.layer !== undefined) (where.push('r.layer = @layer'), (p.layer = opts.layer));
    if (opts.neuron !== undefined) (where.push('r.neuron = @neuron'), (p.neuron = opts.neuron));
    if (opts.model !== undefined) (where.push('r.model = @model'), (p.model = opts.model));
    const q = opts.search?.trim();
    if (q) {
      const fts = ftsQuery(q);
      const like = `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      const alts = [`r.id = @raw`, `r.target LIKE @like ESCAPE '\\'`, `r.method LIKE @like ESCAPE '\\'`, `r.model_spec LIKE @like ESCAPE '\\'`];
      if (fts) alts.unshift(`r.id IN (SELECT ref FROM search WHERE search MATCH @fts AND kind = 'dream')`);
      where.push(`(${alts.join(' OR ')})`);
      Object.assign(p, { raw: q, like }, fts ? { fts } : {});
    }
    const sql = `SELECT r.* FROM dream_runs r ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY r.created_at DESC, r.rowid DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(p) as Row[]).map(runSummary);
  }

  getDreamRun(id: string): DreamRunDetail | null {
    const r = this.stmt('SELECT * FROM dream_runs WHERE id = ?').get(id) as Row | undefined;
    if (!r) return null;
    const records = (this.stmt('SELECT record FROM dream_steps WHERE run_id = ? ORDER BY step').all(id) as { record: string }[]).map((s) => JSON.parse(s.record) as StepRecord);
    return {
      ...runSummary(r),
      config: JSON.parse(r.config as string) as DreamConfig,
      records,
      result: r.result ? (JSON.parse(r.result as string) as DreamResult) : null,
      error: r.error as string | null,
    };
  }

  // ---------------------------------------------------------------------------------------- explanations

  addExplanation(e: NewExplanation): Explanation {
    const x: Explanation = { id: e.id ?? randomUUID(), createdAt: e.createdAt ?? now(), scanId: e.scanId ?? null, score: e.score ?? null, meta: e.meta ?? {}, modelFingerprint: e.modelFingerprint, layer: e.layer, neuron: e.neuron, sae: e.sae ?? null, text: e.text, source: e.source };
    this.tx(() => this.insertExplanation(x));
    return x;
  }

  /** Inside a transaction; false when the id exists already. */
  insertExplanation(x: Explanation): boolean {
    const r = this.stmt(
      `INSERT OR IGNORE INTO explanations (id, model, layer, neuron, sae, text, source, score, scan_id, created_at, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      // A history file from before latents were explained has no `sae`: its explanations are of neurons.
    ).run(x.id, x.modelFingerprint, x.layer, x.neuron, x.sae ?? null, x.text, x.source, finite(x.score), x.scanId, x.createdAt, json(x.meta));
    if (!r.changes) return false;
    this.stmt('UPDATE explanations SET fts = ? WHERE id = ?').run(this.indexText('explanation', x.id, [x.text]), x.id);
    return true;
  }

  /** `sae`: null for MLP neurons' explanations only, an SAE's fingerprint for its latents'; left out, both. */
  listExplanations(q: { model?: string; layer?: number; neuron?: number; sae?: string | null; search?: string; limit?: number } = {}): Explanation[] {
    const where: string[] = [];
    const p: Record<string, unknown> = { limit: q.limit ?? 100 };
    if (q.sae === null) where.push('sae IS NULL');
    else if (q.sae !== undefined) (where.push('sae = @sae'), (p.sae = q.sae));
    if (q.model !== undefined) (where.push('model = @model'), (p.model = q.model));
    if (q.layer !== undefined) (where.push('layer = @layer'), (p.layer = q.layer));
    if (q.neuron !== undefined) (where.push('neuron = @neuron'), (p.neuron = q.neuron));
    const fts = q.search ? ftsQuery(q.search) : null;
    if (q.search && !fts) return [];
    if (fts) (where.push(`id IN (SELECT ref FROM search WHERE search MATCH @fts AND kind = 'explanation')`), (p.fts = fts));
    const sql = `SELECT * FROM explanations ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, rowid DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(p) as Row[]).map(explanationOf);
  }

  search(query: string, opts: { kinds?: SearchHit['kind'][]; limit?: number } = {}): SearchHit[] {
    const fts = ftsQuery(query);
    if (!fts) return [];
    const kinds = opts.kinds ?? ['dream', 'window', 'explanation'];
    const rows = this.stmt(
      `SELECT kind, ref, snippet(search, 0, '⟦', '⟧', '…', 12) AS snippet FROM search WHERE search MATCH ? ORDER BY rank LIMIT ?`,
    ).all(fts, 10 * (opts.limit ?? 50)) as SearchHit[];
    const seen = new Set<string>();
    const out: SearchHit[] = [];
    for (const r of rows) {
      const key = `${r.kind}\0${r.ref}`;
      if (!kinds.includes(r.kind) || seen.has(key)) continue;
      seen.add(key);
      out.push({ kind: r.kind, ref: r.ref, snippet: r.snippet });
      if (out.length >= (opts.limit ?? 50)) break;
    }
    return out;
  }

  // ----------------------------------------------------------------------------------------------- scans

  createScan(model: ModelRef, corpus: CorpusRef, config: ScanConfig, totals: { windows: number; tokens: number }): ScanSummary {
    return this.tx(() => scans.createScan(this, model, corpus, config, totals));
  }
  findResumable(modelFingerprint: string, corpusFingerprint: string, config: ScanConfig): ScanSummary | null {
    return scans.findResumable(this, modelFingerprint, corpusFingerprint, config);
  }
  findCompleted(modelFingerprint: string, corpusFingerprint: string, config: ScanConfig): ScanSummary | null {
    return scans.findCompleted(this, modelFingerprint, corpusFingerprint, config);
  }
  claimScan(id: string): ScanSummary {
    return this.tx(() => scans.claimScan(this, id));
  }
  loadScanState(id: string): { stats: ScanLayerState[]; top: TopSlots[]; random: RandomSlots[]; windows: number[] } {
    return scans.loadScanState(this, id);
  }
  checkpointScan(id: string, cp: ScanCheckpoint): void {
    this.tx(() => scans.checkpointScan(this, id, cp));
  }
  finishScan(id: string, status: Exclude<RunStatus, 'running' | 'interrupted'>, error?: string): void {
    this.tx(() => scans.finishScan(this, id, status, error));
  }
  listScans(opts: ListScansOptions = {}): ScanSummary[] {
    return scans.listScans(this, opts);
  }
  getScan(id: string): ScanSummary | null {
    return scans.getScan(this, id);
  }
  scanFor(modelFingerprint: string, layer: number): ScanSummary | null {
    return scans.scanFor(this, modelFingerprint, layer);
  }

  saeScanFor(modelFingerprint: string, saeFingerprint: string): ScanSummary | null {
    return scans.saeScanFor(this, modelFingerprint, saeFingerprint);
  }

  // ---------------------------------------------------------------------------------------------- sweeps

  claimSweepJob(key: SweepJobKey, settings: SweepSettings, opts: { maxAttempts: number; force?: boolean }): SweepClaim {
    return this.tx(() => sweeps.claimSweepJob(this, key, settings, opts));
  }
  failSweepJob(key: SweepJobKey, error: string): SweepJobState {
    return this.tx(() => sweeps.failSweepJob(this, key, error));
  }
  releaseSweepJob(key: SweepJobKey): void {
    this.tx(() => sweeps.releaseSweepJob(this, key));
  }
  completeSweepJob(c: SweepCompletion, opts: { replace?: boolean } = {}): 'written' | 'duplicate' {
    return this.tx(() => sweeps.completeSweepJob(this, c, opts));
  }
  sweepJobStates(model: string, settingsHash: string): SweepJobState[] {
    return sweeps.sweepJobStates(this, model, settingsHash);
  }
  sweepPage(key: SweepJobKey): SweepPageRow | null {
    return sweeps.sweepPage(this, key);
  }
  sweepPages(model: string, settingsHash: string): SweepPageRow[] {
    return sweeps.sweepPages(this, model, settingsHash);
  }
  sweptLayer(model: string, layer: number, search?: string, sae?: string | null): SweptNeuron[] {
    return sweeps.sweptLayer(this, model, layer, search, sae ?? null);
  }
  /** Pages a `sweep --export` wrote, all or nothing (their runs, scans and explanations must be here already). */
  importSweepPages(text: string, file: string): sweeps.SweepImportReport {
    return this.tx(() => sweeps.importSweepPages(this, text, file));
  }

  // -------------------------------------------------------------------------------- pages, export, import

  neuronPage(q: { model: string; layer: number; neuron: number; sae?: string; scanId?: string; examples?: number; random?: number }): NeuronPageData | null {
    return buildNeuronPage(this, q);
  }
  exportHistory(): HistoryFile {
    return exportHistory(this);
  }
  importHistory(file: HistoryFile): ImportReport {
    return this.tx(() => importHistory(this, file));
  }

  /** `PRAGMA integrity_check` (and foreign keys): 'ok' or the problems found. */
  integrityCheck(): string {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    const fk = this.db.pragma('foreign_key_check') as unknown[];
    const problems = rows.map((r) => r.integrity_check).filter((s) => s !== 'ok');
    if (fk.length) problems.push(`${fk.length} foreign key violation(s)`);
    return problems.length ? problems.join('; ') : 'ok';
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
