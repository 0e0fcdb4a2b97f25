/**
 * Three disjoint document sets, so that no readability or activation figure can be met by copying text:
 * - `judge`: training documents minus the seed pool; the n-gram judge counts only these;
 * - `seedPool`: a fixed share of training documents the judge never counts, the only text corpus-seeded searches
 *   may start from;
 * - `heldOut`: the language model's held-out documents, the yardstick (each neuron's corpus maximum, and the
 *   human windows that calibrate the judge's percentiles).
 */
import type { CorpusDocument } from '../corpus/documents.js';
import { rng, shuffle } from '../corpus/rng.js';
import { sourceGroups, splitBySource } from '../corpus/split.js';
import { LM_SPLIT } from '../train/lmCorpus.js';

export const READABILITY_SPLIT = { seedPoolFraction: 0.1, seed: 4242 } as const;

export interface ReadabilitySplits {
  judge: CorpusDocument[];
  seedPool: CorpusDocument[];
  heldOut: CorpusDocument[];
  /** What fixed them, recorded with every result. */
  settings: { lmSplit: typeof LM_SPLIT; seedPoolFraction: number; seed: number };
}

export function readabilitySplits(docs: readonly CorpusDocument[], opts: { seedPoolFraction?: number; seed?: number } = {}): ReadabilitySplits {
  const seedPoolFraction = opts.seedPoolFraction ?? READABILITY_SPLIT.seedPoolFraction;
  const seed = opts.seed ?? READABILITY_SPLIT.seed;
  const { train, heldOut } = splitBySource(docs, LM_SPLIT);
  // Per split group, like the held-out split, so a source's pool never depends on which other sources are loaded;
  // sorted ids make it independent of input order.
  const pool = new Set<string>();
  for (const group of sourceGroups(train).values()) {
    const ids = group.map((d) => d.id).sort();
    for (const id of shuffle(ids, rng(seed)).slice(0, Math.round(seedPoolFraction * ids.length))) pool.add(id);
  }
  return {
    judge: train.filter((d) => !pool.has(d.id)),
    seedPool: train.filter((d) => pool.has(d.id)),
    heldOut,
    settings: { lmSplit: LM_SPLIT, seedPoolFraction, seed },
  };
}
