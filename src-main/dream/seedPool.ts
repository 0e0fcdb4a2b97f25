// The seed source the CLI and the engine give `seeded`: windows of the readability splits' seed pool (documents
// neither the judge counted nor the yardstick holds), measured for the target on demand.
import { loadCorpus, type CorpusName } from '../corpus/documents.js';
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { readabilitySplits } from '../readability/splits.js';
import { measureIds } from './hard.js';
import { seedWindows, type SeedSource } from './seeded.js';

/** How many seed-pool windows `seeded` measures for a target before it picks its seeds. */
export const SEED_WINDOWS = 1000;

/** Seed-pool documents of a corpus, tokenised. */
export async function seedPoolDocuments(corpus: CorpusName, tok: TextTokenizer): Promise<{ id: string; ids: number[] }[]> {
  return readabilitySplits(await loadCorpus(corpus)).seedPool.map((d) => ({ id: d.id, ids: tok.encode(d.text) }));
}

/**
 * Measure up to `maxWindows` seed-pool windows for the target (each one forward pass, counted as the seeds' cost) and
 * hand the best `count`, distinct in text, to the search.
 */
export function seedSourceFrom(model: GPT2, tok: TextTokenizer, docs: { id: string; ids: number[] }[], maxWindows: number, batch = 32): SeedSource {
  return async (target, reduce, seqLen, count) => {
    const windows = seedWindows(docs, tok, seqLen, maxWindows);
    const scored: { ids: number[]; text: string; value: number; docId: string }[] = [];
    for (let i = 0; i < windows.length; i += batch) {
      const part = windows.slice(i, i + batch);
      const evals = await measureIds(model, tok, target, part.map((w) => w.ids), reduce);
      evals.forEach((e, j) => scored.push({ ids: part[j].ids, text: e.text, value: e.value, docId: part[j].docId }));
    }
    scored.sort((a, b) => b.value - a.value);
    const seen = new Set<string>();
    const seeds = scored.filter((s) => Number.isFinite(s.value) && !seen.has(s.text) && (seen.add(s.text), true)).slice(0, count);
    return { seeds, cost: windows.length };
  };
}

/**
 * The seed source every front end gives `seeded` (CLI, engine, sweep jobs): Brown + SOTU's seed pool, read and
 * tokenised on first use (a process that never dreams `seeded` never reads it), then kept. A failed read is not kept.
 */
export function shippedSeedSource(model: GPT2, tok: TextTokenizer): SeedSource {
  let source: Promise<SeedSource> | null = null;
  return async (...args) => {
    if (!source) {
      const loading = seedPoolDocuments('brown+sotu', tok).then((docs) => seedSourceFrom(model, tok, docs, SEED_WINDOWS));
      loading.catch(() => {
        if (source === loading) source = null;
      });
      source = loading;
    }
    return (await source)(...args);
  };
}
