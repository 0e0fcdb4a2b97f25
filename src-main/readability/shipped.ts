// The readability judge that ships with textdream (resources/readability/judge.bin.gz), built by
// `textdream build-judge` from the `english` corpus's judge split; loaded once per process.
import { join } from 'node:path';
import { resourcesDir } from '../model/load.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { ReadabilityJudge } from './judge.js';
import { readJudgeFile, type JudgeProvenance } from './judgeFile.js';
import { settingsFromEnv } from '../environment.js';

export function shippedJudgePath(): string {
  return join(resourcesDir(), 'readability', 'judge.bin.gz');
}

const cache = new Map<string, Promise<{ judge: ReadabilityJudge; provenance: JudgeProvenance }>>();

/** The shipped judge (TEXTDREAM_JUDGE names another file). Each file is read once; every caller shares it. */
export function loadShippedJudge(tok: TextTokenizer, file = settingsFromEnv().judge ?? shippedJudgePath()): Promise<{ judge: ReadabilityJudge; provenance: JudgeProvenance }> {
  let p = cache.get(file);
  if (!p) {
    p = readJudgeFile(file, tok);
    cache.set(file, p);
    // A failed read is not remembered: the next caller tries again (the file may have been built since).
    p.catch(() => cache.delete(file));
  }
  return p;
}
