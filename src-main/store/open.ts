// The one way to open the experiment store, for every host: the CLI, `textdream serve`, and Electron's engine
// process. It is always SQLite (store/sqlite.ts): a file, created and migrated as needed, or `:memory:`, the same
// store kept in this process only (runs, scans, explanations and sweeps alike; lost on exit).
import { resolveStorePath } from './location.js';
import { SqliteStore } from './sqlite.js';

/** `explicit` (a --db flag), else TEXTDREAM_DB, else the per-user data folder; `:memory:` keeps nothing. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return resolveStorePath(undefined, env);
}

/** Open (creating and migrating as needed) the store at `path`, else TEXTDREAM_DB, else the user data folder. */
export function openStore(path?: string, env: NodeJS.ProcessEnv = process.env): SqliteStore {
  return new SqliteStore(resolveStorePath(path, env));
}

/** For a host's log line: where history goes. */
export function describeStore(store: { path: string }): string {
  return store.path === ':memory:' ? 'in memory (history is lost on exit)' : store.path;
}
