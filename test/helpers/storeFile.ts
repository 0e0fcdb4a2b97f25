// `fn` with the SQLite store at `file` open, closed after (opening runs the store's recovery, as every process does).
import { SqliteStore } from '../../src-main/store/sqlite.js';

export function withStoreFile<T>(file: string, fn: (s: SqliteStore) => T): T {
  const s = new SqliteStore(file);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}
