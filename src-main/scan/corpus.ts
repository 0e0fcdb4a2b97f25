// What a scan reads: a bundled corpus (optionally only the default model's held-out documents) or a user's file,
// turned into windows of W tokens in a seeded random order.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { CORPUS_NAMES, loadCorpus, loadTextFile, type CorpusDocument, type CorpusName } from '../corpus/documents.js';
import { shuffle, rng } from '../corpus/rng.js';
import { splitBySource } from '../corpus/split.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { LM_SPLIT } from '../train/lmCorpus.js';
import type { CorpusRef } from '../store/types.js';
import { ScanCorpusError } from './errors.js';

export { ScanCorpusError };

/** The corpus the default model was trained on; its held-out split (LM_SPLIT) is what dreams are compared with. */
export const DEFAULT_MODEL_CORPUS: CorpusName = 'brown+sotu';

export function isBundledCorpus(spec: string): spec is CorpusName {
  return (CORPUS_NAMES as readonly string[]).includes(spec);
}

/** Documents of `spec` (brown | sotu | brown+sotu | a .txt/.jsonl file) with a content fingerprint. With
 * `heldOut`, only the documents the default model never trained on: the held-out side of LM_SPLIT over
 * brown+sotu, restricted to the requested corpus's sources. */
export async function loadScanCorpus(spec: string, heldOut: boolean): Promise<{ ref: CorpusRef; docs: CorpusDocument[] }> {
  let docs: CorpusDocument[];
  let label: string;
  if (isBundledCorpus(spec)) {
    if (heldOut) {
      const sources = spec === 'brown+sotu' ? ['brown', 'sotu'] : [spec];
      docs = splitBySource(await loadCorpus(DEFAULT_MODEL_CORPUS), LM_SPLIT).heldOut.filter((d) => sources.includes(d.source));
      label = `${spec}:held-out`;
    } else {
      docs = await loadCorpus(spec);
      label = spec;
    }
  } else {
    if (heldOut) throw new ScanCorpusError(`--held-out selects the default model's held-out documents of a bundled corpus (${CORPUS_NAMES.join(', ')}); it does not apply to a file`);
    docs = await loadTextFile(spec);
    label = resolve(spec);
  }
  const h = createHash('sha256');
  for (const d of docs) h.update(d.id).update('\0').update(d.text).update('\0');
  return { ref: { spec: label, fingerprint: h.digest('hex').slice(0, 32), documents: docs.length }, docs };
}

export interface PlannedWindow {
  /** Position in corpus order (documents in order, windows in order within each): the window's id. */
  index: number;
  doc: number;
  /** Offset of the first token in the document's tokens. */
  start: number;
  len: number;
}

export interface WindowPlan {
  docs: CorpusDocument[];
  tokens: Int32Array[];
  windows: PlannedWindow[];
  /** Processing order (indices into windows): a seeded shuffle, cut after maxTokens. Its first R windows are
   * the random sample (a uniform sample without replacement, since the order is a uniform permutation). */
  order: number[];
  /** Tokens in `order`. */
  tokensTotal: number;
}

/** Windows of `window` tokens over each document (the last one of a document may be shorter; none is empty). */
export function planWindows(docs: CorpusDocument[], tok: TextTokenizer, opts: { window: number; seed: number; maxTokens: number | null }): WindowPlan {
  const tokens = docs.map((d) => Int32Array.from(tok.encode(d.text)));
  const windows: PlannedWindow[] = [];
  tokens.forEach((ids, doc) => {
    for (let start = 0; start < ids.length; start += opts.window) windows.push({ index: windows.length, doc, start, len: Math.min(opts.window, ids.length - start) });
  });
  let order = shuffle(windows.map((w) => w.index), rng(opts.seed));
  let total = 0;
  if (opts.maxTokens !== null) {
    let cut = 0;
    while (cut < order.length && total < opts.maxTokens) total += windows[order[cut++]].len;
    order = order.slice(0, cut);
  } else {
    for (const w of windows) total += w.len;
  }
  return { docs, tokens, windows, order, tokensTotal: total };
}
