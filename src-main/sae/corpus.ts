// The text an SAE learns from: a bundled corpus split exactly as train-lm split it (LM_SPLIT, by document), or a
// user's .txt/.jsonl file split the same way; tokenised with the model's own tokenizer and cached. Only the
// training side feeds the SAE; the held-out side is kept for its evaluation.
import { join, resolve } from 'node:path';
import { CORPUS_NAMES, loadTextFile, type CorpusName } from '../corpus/documents.js';
import { splitBySource } from '../corpus/split.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { LM_SPLIT, loadLMCorpus } from '../train/lmCorpus.js';
import { cachedTokenStream, type TokenStream } from '../train/lmData.js';

export interface SaeCorpus {
  /** The bundled corpus's name, or the file's absolute path. */
  label: string;
  train: TokenStream;
  heldOut: TokenStream;
  trainDocs: number;
  heldOutDocs: number;
}

export function isBundledCorpus(spec: string): spec is CorpusName {
  return (CORPUS_NAMES as readonly string[]).includes(spec);
}

/** `spec` is a bundled corpus name or a .txt/.jsonl file; token streams are cached under cacheDir. */
export async function loadSaeCorpus(spec: string, tok: TextTokenizer, cacheDir: string, log: (s: string) => void): Promise<SaeCorpus> {
  if (isBundledCorpus(spec)) {
    const c = await loadLMCorpus(spec, cacheDir, log, tok);
    return { label: spec, train: c.train, heldOut: c.heldOut, trainDocs: c.trainDocs, heldOutDocs: c.heldOutDocs };
  }
  const file = resolve(spec);
  const docs = await loadTextFile(file);
  const { train, heldOut } = splitBySource(docs, LM_SPLIT);
  log(`corpus ${file}: ${docs.length} documents, ${train.length} train / ${heldOut.length} held-out (split seed ${LM_SPLIT.seed})`);
  return {
    label: file,
    train: await cachedTokenStream(train, tok, join(cacheDir, 'file-train'), log),
    heldOut: await cachedTokenStream(heldOut, tok, join(cacheDir, 'file-heldout'), log),
    trainDocs: train.length,
    heldOutDocs: heldOut.length,
  };
}
