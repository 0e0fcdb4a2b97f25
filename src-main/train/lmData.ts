// Language-model training data: documents → one token stream with <|endoftext|> between documents, cached on
// disk (tokenising ~4 M tokens takes a while), and random windows drawn deterministically per step.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CorpusDocument } from '../corpus/documents.js';
import { rng } from '../corpus/rng.js';
import type { TextTokenizer } from '../model/tokenizer.js';

export interface TokenStream {
  tokens: Int32Array;
  /** [start, end) of each document in `tokens` (the separator follows `end`). */
  docs: { id: string; start: number; end: number }[];
}

export function tokenizeDocuments(docs: CorpusDocument[], tok: TextTokenizer, onProgress?: (done: number) => void): TokenStream {
  const parts: number[][] = [];
  const spans: TokenStream['docs'] = [];
  let n = 0;
  docs.forEach((d, i) => {
    const ids = tok.encode(d.text);
    spans.push({ id: d.id, start: n, end: n + ids.length });
    parts.push(ids, [tok.eosTokenId]);
    n += ids.length + 1;
    onProgress?.(i + 1);
  });
  const tokens = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    tokens.set(p, o);
    o += p.length;
  }
  return { tokens, docs: spans };
}

/** Tokenise once and cache under `cacheFile` (keyed by the document ids and text lengths). */
export async function cachedTokenStream(docs: CorpusDocument[], tok: TextTokenizer, cacheFile: string, log?: (s: string) => void): Promise<TokenStream> {
  const key = createHash('sha256').update(docs.map((d) => `${d.id}:${d.text.length}`).join('|')).digest('hex').slice(0, 16);
  const file = `${cacheFile}.${key}.json`;
  if (existsSync(file)) {
    const j = JSON.parse(await readFile(file, 'utf8')) as { tokens: number[]; docs: TokenStream['docs'] };
    return { tokens: Int32Array.from(j.tokens), docs: j.docs };
  }
  const t0 = Date.now();
  const s = tokenizeDocuments(docs, tok, (i) => {
    if (i % 50 === 0) log?.(`tokenised ${i}/${docs.length} documents`);
  });
  log?.(`tokenised ${docs.length} documents, ${s.tokens.length} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify({ tokens: Array.from(s.tokens), docs: s.docs }));
  await rename(`${file}.tmp`, file);
  return s;
}

/** A batch of `batch` random windows of context+1 tokens: inputs [B·T] and next-token targets [B·T]. */
export function sampleBatch(stream: Int32Array, batch: number, context: number, seed: number, step: number): { x: Int32Array; y: Int32Array } {
  const rand = rng((seed * 1_000_003 + step * 7919) >>> 0);
  const x = new Int32Array(batch * context);
  const y = new Int32Array(batch * context);
  const maxStart = stream.length - context - 1;
  for (let b = 0; b < batch; b++) {
    const s = Math.floor(rand() * maxStart);
    x.set(stream.subarray(s, s + context), b * context);
    y.set(stream.subarray(s + 1, s + context + 1), b * context);
  }
  return { x, y };
}

/** Non-overlapping windows covering a stream (for held-out evaluation), in order. */
export function* evalWindows(stream: Int32Array, context: number, batch: number): Generator<{ x: Int32Array; y: Int32Array; rows: number }> {
  const n = Math.floor((stream.length - 1) / context);
  for (let w = 0; w < n; w += batch) {
    const rows = Math.min(batch, n - w);
    const x = new Int32Array(rows * context);
    const y = new Int32Array(rows * context);
    for (let r = 0; r < rows; r++) {
      const s = (w + r) * context;
      x.set(stream.subarray(s, s + context), r * context);
      y.set(stream.subarray(s + 1, s + context + 1), r * context);
    }
    yield { x, y, rows };
  }
}
