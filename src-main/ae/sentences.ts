// Sentences for the sentence autoencoder: the default model's corpus split by document (the LM's split, so no
// held-out sentence was seen by the model or the autoencoder), cut into sentences, kept when they tokenise to
// minLen…T tokens, and padded to T with <|endoftext|>.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadCorpus, type CorpusDocument, type CorpusName } from '../corpus/documents.js';
import { splitBySource } from '../corpus/split.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { LM_SPLIT } from '../train/lmCorpus.js';

/** Split prose into sentences: paragraph breaks, then a sentence end followed by a capital (or quote + capital). */
export function sentencesOf(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .flatMap((p) => p.split(/(?<=[.!?]["')\]]?)\s+(?=["'(\[]?[A-Z])/))
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 0);
}

export interface SentenceSet {
  /** Token rows, each 1…T ids long (unpadded). */
  rows: number[][];
  /** How many sentences were dropped for being shorter than minLen or longer than T tokens. */
  dropped: number;
}

export function sentenceRows(docs: readonly CorpusDocument[], tok: TextTokenizer, T: number, minLen: number): SentenceSet {
  const rows: number[][] = [];
  let dropped = 0;
  for (const d of docs) {
    for (const s of sentencesOf(d.text)) {
      const ids = tok.encode(s);
      if (ids.length < minLen || ids.length > T) dropped += 1;
      else rows.push(ids);
    }
  }
  return { rows, dropped };
}

export interface SentenceSplit {
  train: SentenceSet;
  heldOut: SentenceSet;
}

/** Train and held-out sentences, tokenised once and cached (keyed by corpus, T, minLen and the documents). */
export async function loadSentenceSplit(corpus: CorpusName, tok: TextTokenizer, T: number, minLen: number, cacheDir: string, log: (s: string) => void): Promise<SentenceSplit> {
  const docs = await loadCorpus(corpus);
  const { train, heldOut } = splitBySource(docs, LM_SPLIT);
  const key = createHash('sha256')
    .update(`${corpus}|${T}|${minLen}|` + docs.map((d) => `${d.id}:${d.text.length}`).join('|'))
    .digest('hex')
    .slice(0, 16);
  const file = join(cacheDir, `sentences-${corpus}-T${T}-min${minLen}.${key}.json`);
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as SentenceSplit;
  const t0 = Date.now();
  const split = { train: sentenceRows(train, tok, T, minLen), heldOut: sentenceRows(heldOut, tok, T, minLen) };
  log(`sentences ${corpus}: ${split.train.rows.length} train / ${split.heldOut.rows.length} held-out of ${minLen}-${T} tokens (split seed ${LM_SPLIT.seed}; tokenised in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(split));
  await rename(`${file}.tmp`, file);
  return split;
}

/** Rows padded to T with `pad`, flattened [B·T], and each row's length. */
export function padRows(rows: readonly number[][], T: number, pad: number): { ids: Int32Array; lengths: number[] } {
  const ids = new Int32Array(rows.length * T).fill(pad);
  rows.forEach((r, b) => ids.set(r.slice(0, T), b * T));
  return { ids, lengths: rows.map((r) => Math.min(r.length, T)) };
}
