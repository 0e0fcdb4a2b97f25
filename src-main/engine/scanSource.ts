// Neuron pages' corpus side from the experiment store's scans (store.neuronPage): statistics, quantiles, the
// histogram as contiguous bins, and the top windows with the neuron's activation on every token.
import type { NeuronExample } from '../api/contract.js';
import type { ExperimentHistory, NeuronPageData } from '../store/types.js';
import type { NeuronScanPart, NeuronScanSource } from './neurons.js';

/** The store's non-empty bins → edges and counts with the gaps filled by empty bins. */
export function contiguousHistogram(bins: { lo: number; hi: number; count: number }[]): { edges: number[]; counts: number[] } | null {
  if (!bins.length) return null;
  const edges = [bins[0].lo];
  const counts: number[] = [];
  for (const b of bins) {
    if (b.lo > edges[edges.length - 1]) {
      edges.push(b.lo);
      counts.push(0);
    }
    edges.push(Math.max(b.hi, edges[edges.length - 1]));
    counts.push(b.count);
  }
  return { edges, counts };
}

export function scanPart(page: NeuronPageData): NeuronScanPart | null {
  const { stats, scan } = page;
  if (!stats || !scan) return null;
  const topExamples: NeuronExample[] = page.top.map((e) => ({
    tokens: e.tokens.map((text, i) => ({ text, value: e.acts[i] })),
    max: e.max,
    at: e.maxAt,
    source: `${e.docId}@${e.start}`,
  }));
  return {
    stats: { count: stats.count, mean: stats.mean, std: stats.std, min: stats.min, max: stats.max, positive: stats.positive },
    quantiles: stats.quantiles,
    histogram: contiguousHistogram(stats.bins),
    topExamples,
    scan: { label: `${scan.corpus}${scan.status === 'completed' ? '' : ` (${scan.status}, ${scan.windowsDone}/${scan.windowsTotal} windows)`}`, tokens: scan.tokensDone },
  };
}

export function storeScanSource(store: Pick<ExperimentHistory, 'neuronPage'>): NeuronScanSource {
  return {
    neuron(ref, layer, neuron, examples) {
      const page = store.neuronPage({ model: ref.fingerprint, layer, neuron, examples });
      return page ? scanPart(page) : null;
    },
    latent(ref, sae, latent, examples) {
      const page = store.neuronPage({ model: ref.fingerprint, layer: 0, neuron: latent, sae, examples });
      return page ? scanPart(page) : null;
    },
  };
}
