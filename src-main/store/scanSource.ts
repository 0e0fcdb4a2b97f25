// The store as the engine's scan source (engine/neurons.ts NeuronScanSource): a neuron page's corpus side in the
// wire shapes of api/wire.ts. Only types come from the engine, so this module loads no tensors.
import type { NeuronScanPart, NeuronScanSource } from '../engine/neurons.js';
import { binEdges } from '../scan/histogram.js';
import type { ExperimentHistory, ModelRef, NeuronStatsView } from './types.js';

/** The histogram as contiguous bins from the lowest to the highest non-empty one (empty ones in between count 0);
 * the outer edges are clamped to [min, max]. */
export function histogramEdges(s: NeuronStatsView): { edges: number[]; counts: number[] } | null {
  if (!s.bins.length) return null;
  const first = s.bins[0];
  const last = s.bins[s.bins.length - 1];
  const byBin = new Map(s.bins.map((b) => [b.bin, b.count]));
  const edges = [first.lo];
  const counts: number[] = [];
  for (let b = first.bin; b <= last.bin; b++) {
    counts.push(byBin.get(b) ?? 0);
    edges.push(b === last.bin ? last.hi : binEdges(b)[1]);
  }
  return { edges, counts };
}

export function scanSourceOf(store: ExperimentHistory): NeuronScanSource {
  return {
    neuron(ref: ModelRef, layer: number, neuron: number, examples: number): NeuronScanPart | null {
      const page = store.neuronPage({ model: ref.fingerprint, layer, neuron, examples, random: 0 });
      if (!page || !page.scan || !page.stats) return null;
      const s = page.stats;
      return {
        stats: { count: s.count, mean: s.mean, std: s.std, min: s.min, max: s.max, positive: s.positive },
        quantiles: s.quantiles,
        histogram: histogramEdges(s),
        topExamples: page.top.map((e) => ({
          tokens: e.tokens.map((text, i) => ({ text, value: e.acts[i] })),
          max: e.max,
          at: e.maxAt,
          source: `${e.docId}@${e.start}`,
        })),
        scan: { label: `${page.scan.corpus} · scan ${page.scan.id.slice(0, 8)} (${page.scan.status})`, tokens: page.scan.tokensDone },
      };
    },
  };
}
