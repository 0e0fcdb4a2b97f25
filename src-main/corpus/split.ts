/**
 * Train / held-out split by document. Splitting by document (not by token window) keeps text
 * from one article out of both sides, so held-out loss measures generalisation, not recall.
 */
import type { CorpusDocument } from './documents.js';
import { rng, shuffle } from './rng.js';

export interface SplitOptions {
  /** Fraction of documents held out, in [0, 1). Default 0.05. */
  heldOutFraction?: number;
  /** Seed for the shuffle; the same seed and documents always give the same split. Default 1234. */
  seed?: number;
}

export interface CorpusSplit {
  train: CorpusDocument[];
  heldOut: CorpusDocument[];
}

/**
 * Stratified by `source` + `genre`: every stratum with at least two documents gets one held-out
 * document before any stratum gets a second (as far as the held-out count allows), the rest are
 * allotted in proportion to stratum size (largest remainder). A stratum always keeps at least one
 * training document. Both outputs keep the input order. Document ids must be unique.
 */
export function splitDocuments(docs: readonly CorpusDocument[], options: SplitOptions = {}): CorpusSplit {
  const { heldOutFraction = 0.05, seed = 1234 } = options;
  if (!(heldOutFraction >= 0 && heldOutFraction < 1)) {
    throw new RangeError(`splitDocuments: heldOutFraction must be in [0, 1), got ${heldOutFraction}`);
  }
  const ids = new Set<string>();
  for (const d of docs) {
    if (ids.has(d.id)) throw new Error(`splitDocuments: duplicate document id '${d.id}'`);
    ids.add(d.id);
  }

  // Sorted keys and ids make the split independent of input order.
  const strata = new Map<string, CorpusDocument[]>();
  for (const d of docs) {
    const key = `${d.source}\u0000${d.genre ?? ''}`;
    let list = strata.get(key);
    if (!list) strata.set(key, (list = []));
    list.push(d);
  }
  const keys = [...strata.keys()].sort();
  for (const k of keys) strata.get(k)!.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const sizes = keys.map((k) => strata.get(k)!.length);
  const target = heldOutFraction === 0 ? 0 : Math.max(1, Math.round(heldOutFraction * docs.length));
  const counts = allocate(sizes, heldOutFraction, target);

  const rand = rng(seed);
  const heldOutIds = new Set<string>();
  keys.forEach((k, s) => {
    for (const d of shuffle(strata.get(k)!, rand).slice(0, counts[s])) heldOutIds.add(d.id);
  });
  return {
    train: docs.filter((d) => !heldOutIds.has(d.id)),
    heldOut: docs.filter((d) => heldOutIds.has(d.id)),
  };
}

/** How many documents each stratum holds out; sums to `target` unless capacity runs out. */
function allocate(sizes: number[], fraction: number, target: number): number[] {
  const counts = sizes.map(() => 0);
  const capacity = sizes.map((n) => Math.max(0, n - 1));
  let left = target;
  // Round 1: one per stratum, biggest strata first, so small genres are represented when possible.
  const bySize = sizes.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a] || a - b);
  for (const i of bySize) {
    if (left === 0) break;
    if (capacity[i] > 0) {
      counts[i] = 1;
      left--;
    }
  }
  // Round 2: the rest by largest shortfall against the proportional quota.
  while (left > 0) {
    let best = -1;
    let bestGap = -Infinity;
    for (let i = 0; i < sizes.length; i++) {
      if (counts[i] >= capacity[i]) continue;
      const gap = fraction * sizes[i] - counts[i];
      if (gap > bestGap) {
        bestGap = gap;
        best = i;
      }
    }
    if (best < 0) break;
    counts[best]++;
    left--;
  }
  return counts;
}

/**
 * The split every corpus of this project uses: by document, each source on its own, so adding a source never
 * moves another source's documents between sides. Brown and State of the Union are split together, as they were
 * before other sources existed, so their held-out documents stay the comparison split across model generations.
 */
export function splitBySource(docs: readonly CorpusDocument[], options: SplitOptions = {}): CorpusSplit {
  const groups = sourceGroups(docs);
  const heldOutIds = new Set<string>();
  for (const list of groups.values()) for (const d of splitDocuments(list, options).heldOut) heldOutIds.add(d.id);
  return { train: docs.filter((d) => !heldOutIds.has(d.id)), heldOut: docs.filter((d) => heldOutIds.has(d.id)) };
}

/** Documents by split group: Brown and SOTU together (see splitBySource), every other source on its own. */
export function sourceGroups(docs: readonly CorpusDocument[]): Map<string, CorpusDocument[]> {
  const groups = new Map<string, CorpusDocument[]>();
  for (const d of docs) {
    const g = d.source === 'brown' || d.source === 'sotu' ? 'brown+sotu' : d.source;
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(d);
  }
  return groups;
}
