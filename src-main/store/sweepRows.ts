// Sweep rows: neuron jobs' states and the pages finished jobs leave. Called by SqliteStore inside its transactions.
// A job's 'done', its dream runs, its explanations and its page are written in one transaction, and the page's
// primary key is the job's key, so a page is never half written and never written twice.
import { randomUUID } from 'node:crypto';
import type { SweptNeuron, SweepJobKey, SweepJobState, SweepPageRow, SweepSettings } from '../sweep/types.js';
import { settingsHash } from '../sweep/jobs.js';
import { pageDream } from '../sweep/page.js';
import { OWNER, ownerAlive } from './owner.js';
import { ftsQuery, sweepJobStateOf, sweepPageRowOf } from './rows.js';
import type { SqliteStore } from './sqlite.js';
import type { Explanation, SweepClaim, SweepCompletion } from './types.js';

type Row = Record<string, unknown>;
const now = () => new Date().toISOString();
const KEY = 'model = @model AND settings_hash = @settingsHash AND layer = @layer AND neuron = @neuron';
const keyParams = (k: SweepJobKey) => ({ model: k.model, settingsHash: k.settingsHash, layer: k.layer, neuron: k.neuron });

export class SweepStateError extends Error {
  override name = 'SweepStateError';
}

function jobRow(s: SqliteStore, key: SweepJobKey): SweepJobState | null {
  const r = s.stmt(`SELECT * FROM sweep_jobs WHERE ${KEY}`).get(keyParams(key)) as Row | undefined;
  return r ? sweepJobStateOf(r) : null;
}

function requireJob(s: SqliteStore, key: SweepJobKey): SweepJobState {
  const j = jobRow(s, key);
  if (!j) throw new SweepStateError(`no sweep job L${key.layer}N${key.neuron} (settings ${key.settingsHash}) in ${s.path}`);
  return j;
}

/** The settings a hash stands for; a different text under the same hash is a bug in the caller's hashing. */
function registerSettings(s: SqliteStore, hash: string, settings: SweepSettings): void {
  const text = JSON.stringify(settings);
  s.stmt('INSERT OR IGNORE INTO sweep_settings (hash, settings, created_at) VALUES (?, ?, ?)').run(hash, text, now());
  const stored = (s.stmt('SELECT settings FROM sweep_settings WHERE hash = ?').get(hash) as { settings: string }).settings;
  if (stored !== text) throw new SweepStateError(`sweep settings ${hash} are stored with other contents: the settings hash does not cover the settings`);
}

export function claimSweepJob(s: SqliteStore, key: SweepJobKey, settings: SweepSettings, opts: { maxAttempts: number; force?: boolean }): SweepClaim {
  registerSettings(s, key.settingsHash, settings);
  const prev = jobRow(s, key);
  if (prev) {
    if (prev.status === 'running' && prev.owner !== OWNER && ownerAlive(prev.owner)) return { claimed: false, reason: 'running', state: prev };
    if (!opts.force && prev.status === 'done') return { claimed: false, reason: 'done', state: prev };
    if (!opts.force && prev.status === 'failed' && prev.attempts >= opts.maxAttempts) return { claimed: false, reason: 'exhausted', state: prev };
  }
  const attempts = opts.force || !prev ? 1 : prev.attempts + 1;
  s.stmt(
    `INSERT INTO sweep_jobs (model, layer, neuron, settings_hash, status, attempts, error, owner, started_at, finished_at, elapsed_ms)
     VALUES (@model, @layer, @neuron, @settingsHash, 'running', @attempts, NULL, @owner, @at, NULL, NULL)
     ON CONFLICT (model, settings_hash, layer, neuron) DO UPDATE SET status = 'running', attempts = @attempts, error = NULL, owner = @owner,
       started_at = @at, finished_at = NULL, elapsed_ms = NULL`,
  ).run({ ...keyParams(key), attempts, owner: OWNER, at: now() });
  return { claimed: true, state: requireJob(s, key) };
}

export function failSweepJob(s: SqliteStore, key: SweepJobKey, error: string): SweepJobState {
  requireJob(s, key);
  s.stmt(`UPDATE sweep_jobs SET status = 'failed', error = @error, finished_at = @at WHERE ${KEY}`).run({ ...keyParams(key), error, at: now() });
  return requireJob(s, key);
}

export function releaseSweepJob(s: SqliteStore, key: SweepJobKey): void {
  // Only this process's running claim: a job another process finished meanwhile stays as it is.
  s.stmt(`UPDATE sweep_jobs SET status = 'interrupted', attempts = MAX(attempts - 1, 0), finished_at = @at WHERE ${KEY} AND status = 'running' AND owner = @owner`).run({
    ...keyParams(key),
    owner: OWNER,
    at: now(),
  });
}

export function completeSweepJob(s: SqliteStore, c: SweepCompletion, opts: { replace?: boolean } = {}): 'written' | 'duplicate' {
  const k = keyParams(c.key);
  if (c.page.layer !== c.key.layer || c.page.neuron !== c.key.neuron) throw new SweepStateError(`the page of L${c.page.layer}N${c.page.neuron} does not belong to job L${c.key.layer}N${c.key.neuron}`);
  const exists = s.stmt(`SELECT 1 FROM sweep_pages WHERE ${KEY}`).get(k) !== undefined;
  if (exists && !opts.replace) {
    // Someone finished it first: the job is done, by the page that is there.
    s.stmt(`UPDATE sweep_jobs SET status = 'done', error = NULL, finished_at = COALESCE(finished_at, @at) WHERE ${KEY} AND status != 'done'`).run({ ...k, at: now() });
    return 'duplicate';
  }
  registerSettings(s, c.key.settingsHash, c.settings);
  s.registerModel(c.model);
  const dreamRunIds = c.dreams.map((d) => {
    const id = s.startDreamRun(c.model, d.config);
    for (const r of d.records) s.appendDreamStep(id, r);
    s.finishDreamRun(id, 'completed', d.result);
    return id;
  });
  const at = now();
  const explanationIds = c.explanations.map((e) => {
    const x: Explanation = { id: randomUUID(), createdAt: at, scanId: c.scanId, score: null, meta: {}, ...e, sae: e.sae ?? null };
    if (!s.insertExplanation(x)) throw new SweepStateError(`explanation ${x.id} exists already`);
    return x.id;
  });
  if (exists) s.stmt(`DELETE FROM sweep_pages WHERE ${KEY}`).run(k);
  writePage(s, c.key, { scanId: c.scanId, dreamRunIds, explanationIds, score: c.score, page: c.page, createdAt: at, elapsedMs: c.elapsedMs }, OWNER);
  return 'written';
}

/** A finished job's page row, and its job row marked done (`owner`: the process that finished it; null for an import). */
function writePage(s: SqliteStore, key: SweepJobKey, p: Omit<SweepPageRow, keyof SweepJobKey>, owner: string | null): void {
  const at = p.createdAt;
  s.stmt(
    `INSERT INTO sweep_pages (model, layer, neuron, settings_hash, scan_id, dream_runs, explanations, score, page, created_at, elapsed_ms)
     VALUES (@model, @layer, @neuron, @settingsHash, @scanId, @dreams, @explanations, @score, @page, @at, @elapsed)`,
  ).run({ ...keyParams(key), scanId: p.scanId, dreams: JSON.stringify(p.dreamRunIds), explanations: JSON.stringify(p.explanationIds), score: p.score, page: JSON.stringify(p.page), at, elapsed: p.elapsedMs });
  s.stmt(
    `INSERT INTO sweep_jobs (model, layer, neuron, settings_hash, status, attempts, owner, started_at, finished_at, elapsed_ms)
     VALUES (@model, @layer, @neuron, @settingsHash, 'done', 1, @owner, @at, @at, @elapsed)
     ON CONFLICT (model, settings_hash, layer, neuron) DO UPDATE SET status = 'done', error = NULL, finished_at = @at, elapsed_ms = @elapsed`,
  ).run({ ...keyParams(key), owner, at, elapsed: p.elapsedMs });
}

export function sweepJobStates(s: SqliteStore, model: string, settingsHash: string): SweepJobState[] {
  return (s.stmt('SELECT * FROM sweep_jobs WHERE model = ? AND settings_hash = ? ORDER BY layer, neuron').all(model, settingsHash) as Row[]).map(sweepJobStateOf);
}

export function sweepPage(s: SqliteStore, key: SweepJobKey): SweepPageRow | null {
  const r = s.stmt(`SELECT * FROM sweep_pages WHERE ${KEY}`).get(keyParams(key)) as Row | undefined;
  return r ? sweepPageRowOf(r) : null;
}

export function sweepPages(s: SqliteStore, model: string, settingsHash: string): SweepPageRow[] {
  return (s.stmt('SELECT * FROM sweep_pages WHERE model = ? AND settings_hash = ? ORDER BY layer, neuron').all(model, settingsHash) as Row[]).map(sweepPageRowOf);
}

/** Jobs left 'running' by processes that no longer exist become 'interrupted' (pending again). */
export function recoverSweepJobs(s: SqliteStore): void {
  for (const r of s.stmt(`SELECT * FROM sweep_jobs WHERE status = 'running'`).all() as Row[]) {
    const j = sweepJobStateOf(r);
    if (!ownerAlive(j.owner)) s.stmt(`UPDATE sweep_jobs SET status = 'interrupted' WHERE ${KEY}`).run(keyParams(j));
  }
}

/**
 * Every neuron of one layer that a sweep of this model has touched (a job row or a page), with its page's figures
 * once done: one row per (settings, neuron), neurons in order. `search`: only neurons whose page's explanation or
 * dream text holds every word (the store's FTS5 index over explanations and dream runs). `sae` (an SAE's
 * fingerprint): the latents of sweeps of that SAE instead of the layer's MLP neurons (`layer` is then its hook's).
 */
export function sweptLayer(s: SqliteStore, model: string, layer: number, search?: string, sae: string | null = null): SweptNeuron[] {
  // Which units a job's sweep covered is in its settings: an SAE's fingerprint, or none for MLP neurons.
  const jobs = s
    .stmt(
      `SELECT j.* FROM sweep_jobs AS j LEFT JOIN sweep_settings AS t ON t.hash = j.settings_hash
       WHERE j.model = ? AND j.layer = ? AND json_extract(t.settings, '$.scan.sae.fingerprint') IS ? ORDER BY j.neuron, j.settings_hash`,
    )
    .all(model, layer, sae) as Row[];
  const pages = new Map(
    (s.stmt('SELECT * FROM sweep_pages WHERE model = ? AND layer = ?').all(model, layer) as Row[]).map((r) => {
      const p = sweepPageRowOf(r);
      return [`${p.settingsHash}\0${p.neuron}`, p] as const;
    }),
  );
  let hits: Set<string> | null = null;
  if (search !== undefined && search.trim() !== '') {
    const fts = ftsQuery(search);
    hits = new Set(fts ? (s.stmt(`SELECT ref FROM search WHERE search MATCH ? AND kind IN ('explanation', 'dream')`).all(fts) as { ref: string }[]).map((r) => r.ref) : []);
  }
  const out: SweptNeuron[] = [];
  for (const r of jobs) {
    const j = sweepJobStateOf(r);
    const page = pages.get(`${j.settingsHash}\0${j.neuron}`) ?? null;
    if (hits && (!page || ![...page.explanationIds, ...page.dreamRunIds].some((id) => hits!.has(id)))) continue;
    const shown = page ? pageDream(page.page) : null;
    out.push({
      layer: j.layer,
      neuron: j.neuron,
      settingsHash: j.settingsHash,
      status: page ? 'done' : j.status,
      attempts: j.attempts,
      error: j.error,
      max: page?.page.stats?.max ?? null,
      mean: page?.page.stats?.mean ?? null,
      density: page?.page.stats?.positive ?? null,
      explanation: page?.page.explanation.text ?? null,
      score: page?.page.explanation.score ?? null,
      dream: shown?.text ?? null,
      dreamValue: shown?.value ?? null,
      dreamReadable: shown ? (shown.readable ?? null) : null,
      finishedAt: page?.createdAt ?? j.finishedAt,
    });
  }
  return out;
}

export class SweepImportError extends Error {
  override name = 'SweepImportError';
}

export interface SweepImportReport {
  pages: number;
  added: number;
  /** Pages the store had already (same model, settings and neuron): left as they are. */
  present: number;
}

/**
 * Pages exported by `sweep --export` (sweep/export.ts), into this store (the caller's transaction: all or nothing). Each
 * page's model, scan, dream runs and explanations must be here already (`history --import` of the exporting store
 * brings them); a page present already is kept.
 */
export function importSweepPages(s: SqliteStore, text: string, file: string): SweepImportReport {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parse = (l: string, i: number): Record<string, unknown> => {
    try {
      const v = JSON.parse(l) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new SweepImportError(`${file}:${i + 1} is not a JSON object: give a file textdream sweep --export wrote`);
  };
  if (!lines.length) throw new SweepImportError(`${file} is empty: give a file textdream sweep --export wrote`);
  const header = parse(lines[0], 0);
  if (header.format !== 'textdream-neuron-pages' || header.version !== 1) throw new SweepImportError(`${file}:1 is not a textdream-neuron-pages header of version 1: give a file textdream sweep --export wrote`);
  const settings = header.settings as SweepSettings;
  const hash = header.settingsHash as string;
  if (typeof hash !== 'string' || settingsHash(settings) !== hash) throw new SweepImportError(`${file}:1: the settings do not hash to ${String(hash)}: the file was edited or damaged`);
  const report: SweepImportReport = { pages: 0, added: 0, present: 0 };
  registerSettings(s, hash, settings);
  lines.slice(1).forEach((l, j) => {
    const at = `${file}:${j + 2}`;
    const p = parse(l, j + 1);
    if (p.format !== 'textdream-neuron-page' || p.version !== 1) throw new SweepImportError(`${at} is not a textdream-neuron-page of version 1`);
    if (p.settingsHash !== hash) throw new SweepImportError(`${at}: settings ${String(p.settingsHash)}, the header's are ${hash}`);
    const model = (p.model as { fingerprint?: unknown } | undefined)?.fingerprint;
    const ints = [p.layer, p.neuron].every((x) => Number.isInteger(x) && (x as number) >= 0);
    const ids = [p.dreamRunIds, p.explanationIds].every((x) => Array.isArray(x) && x.every((y) => typeof y === 'string'));
    if (typeof model !== 'string' || !ints || typeof p.scanId !== 'string' || !ids || !p.page || typeof p.page !== 'object' || typeof p.createdAt !== 'string' || typeof p.elapsedMs !== 'number') {
      throw new SweepImportError(`${at}: a page needs model.fingerprint, layer, neuron, scanId, dreamRunIds, explanationIds, page, createdAt and elapsedMs (docs/sweep-pages.md)`);
    }
    report.pages++;
    const key = { model, settingsHash: hash, layer: p.layer as number, neuron: p.neuron as number };
    if (s.stmt(`SELECT 1 FROM sweep_pages WHERE ${KEY}`).get(keyParams(key)) !== undefined) {
      report.present++;
      return;
    }
    const missing = (table: string, col: string, id: string) => s.stmt(`SELECT 1 FROM ${table} WHERE ${col} = ?`).get(id) === undefined;
    const fix = 'import the exporting store\'s history first (textdream history --export there, textdream history --import here)';
    if (missing('models', 'fingerprint', model)) throw new SweepImportError(`${at}: model ${model.slice(0, 12)} is not in this store: ${fix}`);
    if (missing('scans', 'id', p.scanId as string)) throw new SweepImportError(`${at}: scan ${String(p.scanId)} is not in this store: ${fix}`);
    for (const id of p.dreamRunIds as string[]) if (missing('dream_runs', 'id', id)) throw new SweepImportError(`${at}: dream run ${id} is not in this store: ${fix}`);
    for (const id of p.explanationIds as string[]) if (missing('explanations', 'id', id)) throw new SweepImportError(`${at}: explanation ${id} is not in this store: ${fix}`);
    const page = p.page as { layer?: unknown; neuron?: unknown };
    if (page.layer !== key.layer || page.neuron !== key.neuron) throw new SweepImportError(`${at}: the page is of L${String(page.layer)}N${String(page.neuron)}, the line of L${key.layer}N${key.neuron}`);
    const row = {
      scanId: p.scanId as string,
      dreamRunIds: p.dreamRunIds as string[],
      explanationIds: p.explanationIds as string[],
      score: typeof p.score === 'number' ? p.score : null,
      page: p.page as SweepPageRow['page'],
      createdAt: p.createdAt as string,
      elapsedMs: p.elapsedMs as number,
    };
    writePage(s, key, row, null);
    report.added++;
  });
  return report;
}
