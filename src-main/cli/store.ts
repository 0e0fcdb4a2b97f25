// The experiment store as the store-reading commands (history, neuron, scan) open it.
import { SqliteStore } from '../store/sqlite.js';
import { isStoreUserError } from '../store/userErrors.js';
import { UsageError, type OptionSpec } from './command.js';

/** `--db`, for commands that only read and write the store (dream and serve say more about it). */
export const DB_OPTION = {
  type: 'string',
  arg: '<file>',
  description: 'experiment store (default: TEXTDREAM_DB, else the user data folder)',
} as const satisfies OptionSpec;

/**
 * `fn` with the store at `db` open, closed after; an error the user fixes (a store's, raised by `fn` too) becomes a
 * UsageError.
 */
export async function withStore<T>(db: string, fn: (store: SqliteStore) => T | Promise<T>): Promise<T> {
  const store = openCliStore(db);
  try {
    return await fn(store);
  } catch (e) {
    if (isStoreUserError(e)) throw new UsageError(e.message);
    throw e;
  } finally {
    store.close();
  }
}

/** Opens the store at `db`; an error the user fixes (a newer schema, a file that is not a store) becomes a UsageError. */
export function openCliStore(db: string): SqliteStore {
  try {
    return new SqliteStore(db);
  } catch (e) {
    if (isStoreUserError(e)) throw new UsageError(e.message);
    throw e;
  }
}
