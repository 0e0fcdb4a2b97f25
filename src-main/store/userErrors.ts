// Errors from the store and the scan that a user fixes (a setting, a file, a flag): commands show their message
// as `error: …` with exit code 2 rather than as a crash.
import { ScanConfigError, ScanCorpusError } from '../scan/errors.js';
import { HistoryFormatError } from './exchange.js';
import { ScanStateError } from './scanRows.js';
import { SweepImportError } from './sweepRows.js';
import { StoreOpenError, StoreVersionError } from './schema.js';

export const STORE_USER_ERRORS = [StoreOpenError, StoreVersionError, ScanStateError, HistoryFormatError, ScanConfigError, ScanCorpusError, SweepImportError];

export function isStoreUserError(e: unknown): e is Error {
  return STORE_USER_ERRORS.some((c) => e instanceof c);
}
