// The store's schema as an ordered list of migrations. PRAGMA user_version holds the version a database is at;
// opening runs every later migration, each in its own IMMEDIATE transaction together with the version bump, so a
// crash mid-migration leaves the previous version intact. Never edit a released migration: append a new one.
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

const STATUS = `CHECK (status IN ('running', 'completed', 'aborted', 'interrupted', 'failed'))`;

/** Version 1: dream runs and their step records (the first release). */
const V1 = `
CREATE TABLE models (
  fingerprint TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  dir TEXT NOT NULL,
  n_layer INTEGER NOT NULL,
  d_model INTEGER NOT NULL,
  d_mlp INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE dream_runs (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL REFERENCES models(fingerprint),
  model_spec TEXT NOT NULL,
  target TEXT NOT NULL,
  layer INTEGER,
  neuron INTEGER,
  method TEXT NOT NULL,
  config TEXT NOT NULL,
  status TEXT NOT NULL ${STATUS},
  created_at TEXT NOT NULL,
  finished_at TEXT,
  steps INTEGER NOT NULL DEFAULT 0,
  records INTEGER NOT NULL DEFAULT 0,
  best_text TEXT,
  best_value REAL,
  best_ce REAL,
  result TEXT,
  error TEXT
);
CREATE INDEX dream_runs_neuron ON dream_runs(model, layer, neuron);
CREATE TABLE dream_steps (
  run_id TEXT NOT NULL REFERENCES dream_runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  soft REAL,
  best INTEGER NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
`;

/** Version 2: corpus scans, explanations, run ownership and full-text search (back-filled from v1 dreams). */
const V2 = `
ALTER TABLE dream_runs ADD COLUMN owner TEXT;
CREATE TABLE corpora (
  fingerprint TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  documents INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE scans (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL REFERENCES models(fingerprint),
  model_spec TEXT NOT NULL,
  corpus TEXT NOT NULL REFERENCES corpora(fingerprint),
  corpus_spec TEXT NOT NULL,
  config TEXT NOT NULL,
  config_key TEXT NOT NULL,
  status TEXT NOT NULL ${STATUS},
  owner TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT,
  windows_total INTEGER NOT NULL,
  windows_done INTEGER NOT NULL DEFAULT 0,
  tokens_total INTEGER NOT NULL,
  tokens_done INTEGER NOT NULL DEFAULT 0,
  elapsed_ms REAL NOT NULL DEFAULT 0,
  error TEXT
);
CREATE INDEX scans_key ON scans(model, corpus, config_key);
CREATE TABLE scan_windows (
  scan_id TEXT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  doc_id TEXT NOT NULL,
  start INTEGER NOT NULL,
  ids BLOB NOT NULL,
  text TEXT NOT NULL,
  tokens TEXT NOT NULL,
  fts INTEGER,
  PRIMARY KEY (scan_id, idx)
) WITHOUT ROWID;
CREATE TABLE neuron_stats (
  scan_id TEXT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
  layer INTEGER NOT NULL,
  neurons INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  sum BLOB NOT NULL,
  positive BLOB NOT NULL,
  max BLOB NOT NULL,
  sampled INTEGER NOT NULL,
  ssum BLOB NOT NULL,
  ssq BLOB NOT NULL,
  min BLOB NOT NULL,
  hist BLOB NOT NULL,
  PRIMARY KEY (scan_id, layer)
);
CREATE TABLE top_examples (
  scan_id TEXT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
  layer INTEGER NOT NULL,
  neuron INTEGER NOT NULL,
  windows BLOB NOT NULL,
  vals BLOB NOT NULL,
  max_at BLOB NOT NULL,
  lengths BLOB NOT NULL,
  acts BLOB NOT NULL,
  PRIMARY KEY (scan_id, layer, neuron)
);
CREATE TABLE random_examples (
  scan_id TEXT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
  layer INTEGER NOT NULL,
  neuron INTEGER NOT NULL,
  windows BLOB NOT NULL,
  lengths BLOB NOT NULL,
  acts BLOB NOT NULL,
  PRIMARY KEY (scan_id, layer, neuron)
);
CREATE TABLE explanations (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  layer INTEGER NOT NULL,
  neuron INTEGER NOT NULL,
  text TEXT NOT NULL,
  source TEXT NOT NULL,
  score REAL,
  scan_id TEXT,
  created_at TEXT NOT NULL,
  meta TEXT NOT NULL DEFAULT '{}',
  fts INTEGER
);
CREATE INDEX explanations_neuron ON explanations(model, layer, neuron);
CREATE VIRTUAL TABLE search USING fts5(body, kind UNINDEXED, ref UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO search (body, kind, ref)
  SELECT (SELECT group_concat(json_extract(d.value, '$.text'), char(10)) FROM json_each(s.record, '$.dreams') AS d), 'dream', s.run_id
  FROM dream_steps AS s;
`;

/**
 * Version 3: sweeps. A job row per claimed neuron job (no row = pending); a page row per finished one, written in the
 * same transaction as the job's 'done', its dream runs and its explanations. Both keyed by (model, layer, neuron,
 * settings hash), so a page can never be written twice for the same job.
 */
const V3 = `
CREATE TABLE sweep_settings (
  hash TEXT PRIMARY KEY,
  settings TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE sweep_jobs (
  model TEXT NOT NULL,
  layer INTEGER NOT NULL,
  neuron INTEGER NOT NULL,
  settings_hash TEXT NOT NULL REFERENCES sweep_settings(hash),
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  owner TEXT,
  started_at TEXT,
  finished_at TEXT,
  elapsed_ms REAL,
  PRIMARY KEY (model, settings_hash, layer, neuron)
) WITHOUT ROWID;
CREATE TABLE sweep_pages (
  model TEXT NOT NULL REFERENCES models(fingerprint),
  layer INTEGER NOT NULL,
  neuron INTEGER NOT NULL,
  settings_hash TEXT NOT NULL REFERENCES sweep_settings(hash),
  scan_id TEXT NOT NULL REFERENCES scans(id),
  dream_runs TEXT NOT NULL,
  explanations TEXT NOT NULL,
  score REAL,
  page TEXT NOT NULL,
  created_at TEXT NOT NULL,
  elapsed_ms REAL NOT NULL,
  PRIMARY KEY (model, settings_hash, layer, neuron)
) WITHOUT ROWID;
`;

/**
 * Version 4: explanations of SAE latents. `sae` is the SAE's file fingerprint (null for an MLP neuron); a latent's
 * explanation keeps its hook's layer in `layer` and the latent in `neuron`, as its scan rows do.
 */
const V4 = `
ALTER TABLE explanations ADD COLUMN sae TEXT;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'dream runs', up: (db) => db.exec(V1) },
  { version: 2, name: 'scans, explanations, ownership, full-text search', up: (db) => db.exec(V2) },
  { version: 3, name: 'sweeps: neuron jobs and pages', up: (db) => db.exec(V3) },
  { version: 4, name: 'explanations of SAE latents', up: (db) => db.exec(V4) },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export class StoreVersionError extends Error {
  override name = 'StoreVersionError';
}

/** The store file cannot be created or opened (permissions, a folder in the way, not a database). */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

/** Bring `db` to SCHEMA_VERSION. Returns the versions before and after. */
export function migrate(db: Database.Database, file: string): { from: number; to: number } {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const from = version();
  if (from > SCHEMA_VERSION) {
    throw new StoreVersionError(
      `${file} was written by a newer textdream (schema version ${from}; this one understands up to ${SCHEMA_VERSION}). ` +
        'Upgrade textdream, or use another store with --db or TEXTDREAM_DB.',
    );
  }
  for (const m of MIGRATIONS) {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    db.transaction(() => {
      if (version() >= m.version) return;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return { from, to: version() };
}
