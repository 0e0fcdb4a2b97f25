// What every long training job shares: a timestamped log (file and callback) and a stop signal raised by
// SIGINT/SIGTERM or the caller's AbortSignal, so that the trainer checkpoints before it exits.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface TrainingSession {
  log: (s: string) => void;
  signal: AbortSignal;
  close: () => void;
}

export function trainingSession(logFile: string, onLine?: (line: string) => void, signal?: AbortSignal): TrainingSession {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = (s: string) => {
    const line = `${new Date().toISOString()} ${s}`;
    appendFileSync(logFile, line + '\n');
    onLine?.(line);
  };
  const ctl = new AbortController();
  const stop = () => {
    log('stop requested: checkpointing');
    ctl.abort();
  };
  signal?.addEventListener('abort', stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    log,
    signal: ctl.signal,
    close: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
    },
  };
}
