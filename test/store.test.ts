// The experiment store: schema migrations (from an empty file and from version 1), dream runs and their step
// records, recovery of runs left running, full-text search, explanations, export → import, the store's location,
// and persistDream around a dream generator.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { dreamConfig, type DreamConfig } from '../src-main/dream/config.js';
import type { Dream, DreamResult, StepRecord } from '../src-main/dream/loop.js';
import { readHistoryFile, writeHistoryFile } from '../src-main/store/exchange.js';
import { resolveStorePath, userDataDir } from '../src-main/store/location.js';
import { persistDream } from '../src-main/store/persist.js';
import { MIGRATIONS, SCHEMA_VERSION, StoreVersionError } from '../src-main/store/schema.js';
import { SqliteStore } from '../src-main/store/sqlite.js';
import type { ModelRef } from '../src-main/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'textdream-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbPath = () => join(dir, `s${n++}.db`);

export const MODEL: ModelRef = { spec: 'fixtures/tiny', dir: '/models/tiny', fingerprint: 'f00dfeed', nLayer: 2, dModel: 32, dMlp: 128 };
const CONFIG: DreamConfig = dreamConfig({ target: { kind: 'neuron', layer: 1, neuron: 7 }, method: 'embed', steps: 4, every: 2 });

function dream(text: string, value: number, label = '#0'): Dream {
  const tokens = text.split(/(?= )/);
  return { text, ids: tokens.map((_, i) => i), tokens, perToken: tokens.map(() => value), max: value, mean: value, value, ce: 3.5, label };
}
function record(step: number, texts: string[], values: number[]): StepRecord {
  const dreams = texts.map((t, i) => dream(t, values[i], `#${i}`));
  const best = values.indexOf(Math.max(...values));
  return { step, soft: values[best] + 0.1, dreams, best, forwardEquivalents: step * 3, elapsedMs: step * 10 };
}
function result(records: StepRecord[], stopped: DreamResult['stopped'] = 'completed'): DreamResult {
  const all = records.flatMap((r) => r.dreams);
  const best = all.reduce((a, d) => (d.value > a.value ? d : a));
  return { config: CONFIG, method: 'embed', target: 'L1N7', stopped, steps: records.at(-1)!.step, best, bestPerLabel: [best], initial: [dream(' initial words', 0.01)], forwardEquivalents: 12, elapsedMs: 40 };
}

/** The version-1 schema exactly as the first release wrote it (a frozen copy: never edit it with the code). */
const V1_FIXTURE = `
CREATE TABLE models (fingerprint TEXT PRIMARY KEY, spec TEXT NOT NULL, dir TEXT NOT NULL, n_layer INTEGER NOT NULL, d_model INTEGER NOT NULL, d_mlp INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE dream_runs (id TEXT PRIMARY KEY, model TEXT NOT NULL REFERENCES models(fingerprint), model_spec TEXT NOT NULL, target TEXT NOT NULL, layer INTEGER, neuron INTEGER,
  method TEXT NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'aborted', 'interrupted', 'failed')), created_at TEXT NOT NULL,
  finished_at TEXT, steps INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0, best_text TEXT, best_value REAL, best_ce REAL, result TEXT, error TEXT);
CREATE INDEX dream_runs_neuron ON dream_runs(model, layer, neuron);
CREATE TABLE dream_steps (run_id TEXT NOT NULL REFERENCES dream_runs(id) ON DELETE CASCADE, step INTEGER NOT NULL, soft REAL, best INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (run_id, step)) WITHOUT ROWID;
PRAGMA user_version = 1;
`;

describe('schema and migrations', () => {
  it('creates the latest schema in an empty file, with WAL, FTS5 and every table', () => {
    const s = new SqliteStore(dbPath());
    expect(s.migrated).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    const tables = (s.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name);
    for (const t of ['models', 'corpora', 'scans', 'scan_windows', 'neuron_stats', 'top_examples', 'random_examples', 'dream_runs', 'dream_steps', 'explanations', 'search']) expect(tables).toContain(t);
    expect(s.db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'search'`).get()).toMatchObject({ sql: expect.stringContaining('fts5') });
    expect(s.integrityCheck()).toBe('ok');
    s.close();
    // Opening again migrates nothing.
    const again = new SqliteStore(s.path);
    expect(again.migrated).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    again.close();
  });

  it('migrates a version-1 file: rows kept, ownerless running runs interrupted, old dream texts searchable', () => {
    const path = dbPath();
    const old = new Database(path);
    old.exec(V1_FIXTURE);
    old.prepare(`INSERT INTO models VALUES ('f00dfeed', 'fixtures/tiny', '/models/tiny', 2, 32, 128, '2024-01-01T00:00:00.000Z')`).run();
    const insertRun = old.prepare(`INSERT INTO dream_runs (id, model, model_spec, target, layer, neuron, method, config, status, created_at, steps, records, best_text, best_value, best_ce)
      VALUES (?, 'f00dfeed', 'fixtures/tiny', 'L1N7', 1, 7, 'embed', ?, ?, ?, 2, 1, ?, 0.5, 3.5)`);
    insertRun.run('old-done', JSON.stringify(CONFIG), 'completed', '2024-01-01T00:00:01.000Z', ' a lighthouse keeper');
    insertRun.run('old-live', JSON.stringify(CONFIG), 'running', '2024-01-01T00:00:02.000Z', ' marmalade');
    old.prepare('INSERT INTO dream_steps VALUES (?, 2, 0.6, 0, ?)').run('old-done', JSON.stringify(record(2, [' a lighthouse keeper'], [0.5])));
    old.prepare('INSERT INTO dream_steps VALUES (?, 2, 0.6, 0, ?)').run('old-live', JSON.stringify(record(2, [' marmalade on toast'], [0.5])));
    old.close();

    const s = new SqliteStore(path);
    expect(s.migrated).toEqual({ from: 1, to: SCHEMA_VERSION });
    expect(s.integrityCheck()).toBe('ok');
    expect(s.getDreamRun('old-done')).toMatchObject({ status: 'completed', steps: 2, bestText: ' a lighthouse keeper', records: [{ step: 2 }] });
    expect(s.getDreamRun('old-live')!.status).toBe('interrupted');
    expect(s.listRuns({ search: 'lighthouse' }).map((r) => r.id)).toEqual(['old-done']);
    expect(s.listRuns({ search: 'toast' }).map((r) => r.id)).toEqual(['old-live']);
    // New tables work on the migrated file.
    const e = s.addExplanation({ modelFingerprint: 'f00dfeed', layer: 1, neuron: 7, text: 'coastal buildings', source: 'human' });
    expect(s.listExplanations({ search: 'coastal' })).toEqual([e]);
    s.close();
  });

  it('refuses a file written by a newer schema, naming the fix', () => {
    const path = dbPath();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteStore(path)).toThrow(StoreVersionError);
    expect(() => new SqliteStore(path)).toThrow(/newer textdream.*--db or TEXTDREAM_DB/);
  });
});

describe('dream runs', () => {
  it('stores runs, step records and outcomes; lists and filters them', () => {
    const s = new SqliteStore(dbPath());
    const id = s.startDreamRun(MODEL, CONFIG);
    expect(s.getDreamRun(id)).toMatchObject({ status: 'running', steps: 0, records: [], target: 'L1N7', layer: 1, neuron: 7, model: MODEL.spec, config: CONFIG });
    const recs = [record(2, [' the quiet harbour', ' stone walls'], [0.2, 0.9]), record(4, [' salt and rope', ' harbour lights'], [0.7, 0.4])];
    for (const r of recs) s.appendDreamStep(id, r);
    const mid = s.getDreamRun(id)!;
    expect(mid).toMatchObject({ steps: 4, bestText: ' stone walls', bestValue: 0.9, status: 'running' });
    expect(mid.records).toEqual(recs);
    s.finishDreamRun(id, 'completed', result(recs));
    const done = s.getDreamRun(id)!;
    expect(done).toMatchObject({ status: 'completed', steps: 4, bestText: ' stone walls', bestValue: 0.9, error: null });
    expect(done.finishedAt).not.toBeNull();
    expect(done.result).toEqual(result(recs));

    const other = s.startDreamRun({ ...MODEL, fingerprint: 'other' }, dreamConfig({ target: { kind: 'neuron', layer: 0, neuron: 3 } }));
    s.finishDreamRun(other, 'failed', null, 'boom');
    expect(s.listRuns().map((r) => r.id)).toEqual([other, id]);
    expect(s.listRuns({ layer: 1 }).map((r) => r.id)).toEqual([id]);
    expect(s.listRuns({ layer: 0, neuron: 3 })[0]).toMatchObject({ id: other, status: 'failed' });
    expect(s.listRuns({ search: 'harbour' }).map((r) => r.id)).toEqual([id]);
    expect(s.listRuns({ search: 'L0N3' }).map((r) => r.id)).toEqual([other]);
    expect(s.listRuns({ search: 'harb*' }).map((r) => r.id)).toEqual([id]);
    expect(s.listRuns({ search: 'nowhere' })).toEqual([]);
    expect(s.listRuns({ limit: 1 })).toHaveLength(1);
    const hits = s.search('harbour');
    expect(hits.map((h) => [h.kind, h.ref])).toEqual([['dream', id]]);
    expect(hits[0].snippet).toContain('⟦harbour⟧');
    s.close();
  });

  it('marks runs of dead processes interrupted on open, and leaves live ones alone', () => {
    const path = dbPath();
    const s = new SqliteStore(path);
    const mine = s.startDreamRun(MODEL, CONFIG);
    const dead = s.startDreamRun(MODEL, CONFIG);
    // A pid that cannot exist (above pid_max) stands for a process that died.
    s.db.prepare('UPDATE dream_runs SET owner = ? WHERE id = ?').run(`${s.db.prepare("SELECT substr(owner, 1, instr(owner, ':') - 1) AS h FROM dream_runs WHERE id = ?").pluck().get(mine)}:99999999`, dead);
    const again = new SqliteStore(path);
    expect(again.getDreamRun(dead)!.status).toBe('interrupted');
    expect(again.getDreamRun(mine)!.status).toBe('running');
    again.close();
    s.close();
  });

  it('persistDream stores each record as it comes and the outcome; completed, aborted, failed and abandoned', async () => {
    const s = new SqliteStore(dbPath());
    const recs = [record(2, [' one'], [0.1]), record(4, [' two'], [0.3])];
    async function* gen(stop: DreamResult['stopped'] | 'throw' = 'completed'): AsyncGenerator<StepRecord, DreamResult> {
      for (const r of recs) yield r;
      if (stop === 'throw') throw new Error('backend lost');
      return result(recs, stop);
    }
    const p = persistDream(s, MODEL, gen(), CONFIG);
    expect(s.getDreamRun(p.runId)!.status).toBe('running');
    const seen: number[] = [];
    for (;;) {
      const x = await p.next();
      if (x.done) break;
      seen.push(x.value.step);
      expect(s.getDreamRun(p.runId)!.records.at(-1)!.step).toBe(x.value.step); // stored before it is yielded
    }
    expect(seen).toEqual([2, 4]);
    expect(s.getDreamRun(p.runId)).toMatchObject({ status: 'completed', steps: 4 });

    const ab = persistDream(s, MODEL, gen('aborted'), CONFIG);
    for await (const _ of ab) void _;
    expect(s.getDreamRun(ab.runId)!.status).toBe('aborted');

    const bad = persistDream(s, MODEL, gen('throw'), { target: { kind: 'neuron', layer: 1, neuron: 7 } });
    await expect((async () => {
      for await (const _ of bad) void _;
    })()).rejects.toThrow('backend lost');
    expect(s.getDreamRun(bad.runId)).toMatchObject({ status: 'failed', error: 'Error: backend lost' });

    let closed = false;
    async function* watched(): AsyncGenerator<StepRecord, DreamResult> {
      try {
        for (const r of recs) yield r;
        return result(recs);
      } finally {
        closed = true;
      }
    }
    const left = persistDream(s, MODEL, watched(), CONFIG);
    for await (const r of left) if (r.step === 2) break;
    expect(closed).toBe(true);
    expect(s.getDreamRun(left.runId)).toMatchObject({ status: 'aborted', steps: 2 });
    s.close();
  });
});

describe('explanations, export and import', () => {
  it('round-trips the whole history through one JSON file, idempotently', () => {
    const a = new SqliteStore(dbPath());
    const id = a.startDreamRun(MODEL, CONFIG);
    const recs = [record(2, [' seagulls over the pier'], [0.4])];
    a.appendDreamStep(id, recs[0]);
    a.finishDreamRun(id, 'completed', result(recs));
    const live = a.startDreamRun(MODEL, CONFIG);
    a.appendDreamStep(live, record(2, [' unfinished'], [0.1]));
    a.addExplanation({ modelFingerprint: MODEL.fingerprint, layer: 1, neuron: 7, text: 'seaside words', source: 'offline', score: 0.42, meta: { records: 20 } });
    const file = join(dir, 'history.json');
    writeHistoryFile(a, file);
    const exported = a.exportHistory();
    const read = readHistoryFile(file);
    expect({ ...read, exportedAt: '' }).toEqual({ ...exported, exportedAt: '' });

    const b = new SqliteStore(dbPath());
    expect(b.importHistory(read)).toEqual({ models: 1, corpora: 0, scans: 0, dreamRuns: 2, explanations: 1, skipped: 0 });
    expect(b.importHistory(read)).toEqual({ models: 0, corpora: 0, scans: 0, dreamRuns: 0, explanations: 0, skipped: 4 });
    expect(b.getDreamRun(id)).toEqual(a.getDreamRun(id));
    expect(b.getDreamRun(live)!.status).toBe('interrupted'); // nobody here runs it
    const again = b.exportHistory();
    const strip = (h: typeof again) => ({ ...h, exportedAt: '', dreamRuns: h.dreamRuns.map((r) => ({ ...r, status: r.id === live ? 'x' : r.status })) });
    expect(strip(again)).toEqual(strip(exported));
    expect(b.listRuns({ search: 'seagulls' }).map((r) => r.id)).toEqual([id]);
    expect(b.search('seaside').map((h) => h.kind)).toEqual(['explanation']);
    expect(b.integrityCheck()).toBe('ok');
    a.close();
    b.close();
  });

  it('rejects files that are not history exports', () => {
    const s = new SqliteStore(dbPath());
    expect(() => s.importHistory({ format: 'something-else' } as never)).toThrow(/not a textdream history export/);
    s.close();
  });
});

describe('store location', () => {
  it('follows the explicit path, TEXTDREAM_DB, then the platform data folder', () => {
    expect(resolveStorePath('/x/my.db', { TEXTDREAM_DB: '/y/other.db' })).toBe('/x/my.db');
    expect(resolveStorePath(undefined, { TEXTDREAM_DB: '/y/other.db' })).toBe('/y/other.db');
    expect(resolveStorePath(undefined, { XDG_DATA_HOME: '/xdg' }, 'linux')).toBe('/xdg/textdream/textdream.db');
    expect(resolveStorePath(undefined, { XDG_DATA_HOME: 'relative' }, 'linux')).toMatch(/\.local\/share\/textdream\/textdream\.db$/);
    expect(userDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/textdream');
    expect(userDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u')).toContain('textdream');
    expect(resolveStorePath(':memory:')).toBe(':memory:');
  });
});
