// A neuron's page from the store: its scan statistics, top and random windows (with the neuron's activation on
// every token), the dreams run for it and its explanations.
import { hookName } from '../model/hooks.js';
import { HIST_BINS, nonEmptyBins, quantiles } from '../scan/histogram.js';
import { f32, f64, i32, u32 } from './blobs.js';
import { explanationOf, runSummary } from './rows.js';
import { randomSlotsOf, topSlotsOf } from './scanRows.js';
import type { SqliteStore } from './sqlite.js';
import type { NeuronExample, NeuronPageData, NeuronStatsView, ScanSummary } from './types.js';

type Row = Record<string, unknown>;

interface WindowRow {
  idx: number;
  doc_id: string;
  start: number;
  ids: Buffer;
  text: string;
  tokens: string;
}

function neuronStats(s: SqliteStore, scanId: string, layer: number, neuron: number): NeuronStatsView | null {
  const bytes = HIST_BINS * 4;
  const r = s
    .stmt(
      `SELECT tokens, sampled, neurons, substr(sum, @n * 8 + 1, 8) AS sum, substr(positive, @n * 8 + 1, 8) AS positive, substr(max, @n * 4 + 1, 4) AS max,
         substr(ssum, @n * 8 + 1, 8) AS ssum, substr(ssq, @n * 8 + 1, 8) AS ssq, substr(min, @n * 4 + 1, 4) AS min, substr(hist, @n * @bytes + 1, @bytes) AS hist
       FROM neuron_stats WHERE scan_id = @scan AND layer = @layer`,
    )
    .get({ n: neuron, bytes, scan: scanId, layer }) as Row | undefined;
  if (!r || neuron >= (r.neurons as number) || !(r.tokens as number)) return null;
  const n = r.tokens as number;
  const m = r.sampled as number;
  const max = f32(r.max as Buffer)[0];
  const min = Math.min(f32(r.min as Buffer)[0], max);
  const hist = u32(r.hist as Buffer);
  const smean = f64(r.ssum as Buffer)[0] / m;
  return {
    count: n,
    mean: f64(r.sum as Buffer)[0] / n,
    std: m ? Math.sqrt(Math.max(0, f64(r.ssq as Buffer)[0] / m - smean * smean)) : Number.NaN,
    min,
    max,
    positive: f64(r.positive as Buffer)[0] / n,
    sampled: m,
    quantiles: quantiles(hist, min, max),
    bins: nonEmptyBins(hist, min, max),
  };
}

function windowsById(s: SqliteStore, scanId: string, idx: number[]): Map<number, WindowRow> {
  const out = new Map<number, WindowRow>();
  const get = s.stmt('SELECT * FROM scan_windows WHERE scan_id = ? AND idx = ?');
  for (const i of new Set(idx)) {
    const w = get.get(scanId, i) as WindowRow | undefined;
    if (w) out.set(i, w);
  }
  return out;
}

function example(rank: number, w: WindowRow | undefined, window: number, acts: Float32Array): NeuronExample {
  let maxAt = 0;
  for (let t = 1; t < acts.length; t++) if (acts[t] > acts[maxAt]) maxAt = t;
  return {
    rank,
    window,
    docId: w?.doc_id ?? '',
    start: w?.start ?? 0,
    text: w?.text ?? '',
    ids: w ? Array.from(i32(w.ids)) : [],
    tokens: w ? (JSON.parse(w.tokens) as string[]) : [],
    acts: Array.from(acts),
    max: acts.length ? acts[maxAt] : Number.NaN,
    maxAt,
  };
}

/** Top windows, highest first (ties: lower window index first), at most `k`. */
function topExamples(s: SqliteStore, scanId: string, layer: number, neuron: number, k: number): NeuronExample[] {
  const r = s.stmt('SELECT * FROM top_examples WHERE scan_id = ? AND layer = ? AND neuron = ?').get(scanId, layer, neuron) as Row | undefined;
  if (!r) return [];
  const t = topSlotsOf(r);
  const offsets: number[] = [];
  let at = 0;
  for (const len of t.lengths) (offsets.push(at), (at += len));
  const order = Array.from(t.windows.keys()).sort((a, b) => t.values[b] - t.values[a] || t.windows[a] - t.windows[b]).slice(0, k);
  const rows = windowsById(s, scanId, order.map((i) => t.windows[i]));
  return order.map((i, rank) => example(rank + 1, rows.get(t.windows[i]), t.windows[i], t.acts.subarray(offsets[i], offsets[i] + t.lengths[i])));
}

function randomExamples(s: SqliteStore, scanId: string, layer: number, neuron: number, k: number): NeuronExample[] {
  const r = s.stmt('SELECT * FROM random_examples WHERE scan_id = ? AND layer = ? AND neuron = ?').get(scanId, layer, neuron) as Row | undefined;
  if (!r) return [];
  const x = randomSlotsOf(r);
  const n = Math.min(k, x.windows.length);
  const rows = windowsById(s, scanId, Array.from(x.windows.subarray(0, n)));
  const out: NeuronExample[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    out.push(example(i + 1, rows.get(x.windows[i]), x.windows[i], x.acts.subarray(at, at + x.lengths[i])));
    at += x.lengths[i];
  }
  return out;
}

/**
 * A neuron's page, or with `sae` (an SAE's fingerprint; `neuron` = the latent, `layer` ignored) a latent's page from
 * the scan of that SAE: the same statistics, windows and histogram, and the dreams run for `sae:<name>:<latent>`.
 */
export function buildNeuronPage(
  s: SqliteStore,
  q: { model: string; layer: number; neuron: number; sae?: string; scanId?: string; examples?: number; random?: number },
): NeuronPageData | null {
  const model = s.resolveModel(q.model);
  let scan: ScanSummary | null = null;
  if (q.scanId) {
    scan = s.getScan(q.scanId);
    if (!scan) return null;
  } else if (model) {
    scan = q.sae ? s.saeScanFor(model.fingerprint, q.sae) : s.scanFor(model.fingerprint, q.layer);
  }
  const fp = model?.fingerprint ?? scan?.modelFingerprint;
  if (!fp) return null;
  const sae = scan?.config.sae ?? null;
  if (q.sae && !sae) return null;
  const layer = sae ? scan!.config.layers[0] : q.layer;
  const covered = scan && scan.config.layers.includes(layer) && (sae ? q.neuron < sae.latents : !scan.config.sae) ? scan : null;
  const k = q.examples ?? 1000;
  const dreams = sae
    ? (s.stmt('SELECT * FROM dream_runs WHERE model = ? AND target = ? ORDER BY created_at DESC, rowid DESC LIMIT 1000').all(fp, `sae:${sae.spec}:${q.neuron}`) as Row[]).map(runSummary)
    : s.listRuns({ model: fp, layer, neuron: q.neuron, limit: 1000 });
  return {
    format: 'textdream-neuron',
    model: model ?? (scan ? { spec: scan.model, fingerprint: scan.modelFingerprint } : null),
    layer,
    neuron: q.neuron,
    hook: sae ? sae.hook : hookName(layer, 'mlp.hook_post'),
    sae,
    scan,
    stats: covered ? neuronStats(s, covered.id, layer, q.neuron) : null,
    top: covered ? topExamples(s, covered.id, layer, q.neuron, k) : [],
    random: covered ? randomExamples(s, covered.id, layer, q.neuron, q.random ?? k) : [],
    dreams,
    explanations: s.listExplanations({ model: fp, layer, neuron: q.neuron, sae: sae?.fingerprint ?? null, limit: 1000 }),
  };
}
