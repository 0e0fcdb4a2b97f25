// Mistakes in how a scan was asked for; the CLI shows their messages as they are.

export class ScanConfigError extends Error {
  override name = 'ScanConfigError';
}

export class ScanCorpusError extends Error {
  override name = 'ScanCorpusError';
}
