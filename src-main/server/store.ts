// The experiment store a server (or the Electron engine process) runs on: SQLite at a path, or memory.
import { MemoryStore } from '../engine/memoryStore.js';
import { storeScanSource } from '../engine/scanSource.js';
import type { NeuronScanSource } from '../engine/neurons.js';
import { resolveStorePath } from '../store/location.js';
import { openStore } from '../store/sqlite.js';
import type { ExperimentHistory, ExperimentStore, SweepStore } from '../store/types.js';

/** TEXTDREAM_DB, else the per-user data folder (the same file the CLI commands use). */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return resolveStorePath(undefined, env);
}

export interface OpenedStore {
  store: ExperimentStore;
  /** Corpus statistics for neuron pages (the SQLite store's scans); null for the in-memory store. */
  scans: NeuronScanSource | null;
  /** Scans, explanations and search (the SQLite store); null for the in-memory store. */
  history: ExperimentHistory | null;
  /** Swept neurons for the neuron browser (the SQLite store); null for the in-memory store. */
  sweeps: Pick<SweepStore, 'sweptLayer'> | null;
  /** For the log line: where history goes. */
  description: string;
}

/** `:memory:` keeps runs in this process only; anything else is a SQLite file (created and migrated as needed). */
export function openExperimentStore(path: string, env: NodeJS.ProcessEnv = process.env): OpenedStore {
  if (path === ':memory:') return { store: new MemoryStore(), scans: null, history: null, sweeps: null, description: 'in memory (history is lost on exit)' };
  const store = openStore(path, env);
  return { store, scans: storeScanSource(store), history: store, sweeps: store, description: store.path };
}
