// The uplift batch: a fixed, seeded set of neurons stratified over layers, each explained without and with
// dreams by the same explainer and simulator and scored on the same held-out records; and its summary.
import { rng, shuffle } from '../corpus/rng.js';
import type { DreamConfig } from '../dream/config.js';
import type { DreamContext } from '../dream/loop.js';
import type { TokenStream } from '../train/lmData.js';
import { dreamRecords, type DreamSummary } from './dreams.js';
import { LLMError } from './openai.js';
import { comparable, explainUplift, type ExplanationRun, type ExplainRunOptions } from './pipeline.js';
import { computeNeuronRecords, type CorpusRecordOptions } from './records.js';
import type { Explainer, NeuronRecords, Simulator } from './types.js';

export interface NeuronRef {
  layer: number;
  neuron: number;
}

/** `perLayer` neurons of every layer, drawn by a seeded shuffle; the same arguments give the same set. */
export function chooseNeurons(nLayer: number, dMlp: number, perLayer: number, seed: number): NeuronRef[] {
  const out: NeuronRef[] = [];
  for (let layer = 0; layer < nLayer; layer++) {
    const all = Array.from({ length: dMlp }, (_, i) => i);
    const picked = shuffle(all, rng(seed * 1009 + layer)).slice(0, Math.min(perLayer, dMlp));
    for (const neuron of picked.sort((a, b) => a - b)) out.push({ layer, neuron });
  }
  return out;
}

export interface UpliftRow {
  layer: number;
  neuron: number;
  maxActivation: number;
  /** Set when the neuron was not explained (e.g. it never fires on the corpus). */
  skipped?: string;
  without?: ExplanationRun;
  with?: ExplanationRun;
  delta?: number;
  dreams?: DreamSummary[];
}

export interface UpliftBatchOptions {
  explainer: Explainer;
  simulator: Simulator;
  records?: CorpusRecordOptions;
  dream?: Partial<DreamConfig>;
  /** Where records come from; default: computed from `stream` (one pass per layer). */
  recordSource?: (layer: number, neurons: number[]) => Promise<Map<number, NeuronRecords>>;
  run?: ExplainRunOptions;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** One row per neuron, in the order given (grouped by layer for the record pass). */
export async function* upliftBatch(ctx: DreamContext, stream: TokenStream, neurons: NeuronRef[], o: UpliftBatchOptions): AsyncGenerator<UpliftRow> {
  const layers = [...new Set(neurons.map((n) => n.layer))];
  const source = o.recordSource ?? (async (layer: number, ns: number[]) => computeNeuronRecords(ctx.model, ctx.tokenizer, stream, layer, ns, o.records));
  for (const layer of layers) {
    const ns = neurons.filter((n) => n.layer === layer).map((n) => n.neuron);
    const t0 = Date.now();
    const records = await source(layer, ns);
    o.log?.(`layer ${layer}: records for ${ns.length} neurons in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const neuron of ns) {
      if (o.signal?.aborted) return;
      const nr = records.get(neuron)!;
      if (!(nr.maxActivation > 0)) {
        yield { layer, neuron, maxActivation: nr.maxActivation, skipped: 'never fires on the corpus (max activation ≤ 0)' };
        continue;
      }
      const dreams = await dreamRecords(ctx, { kind: 'neuron', layer, neuron }, o.dream, o.signal);
      let u;
      try {
        u = await explainUplift(nr, o.explainer, o.simulator, dreams.records, { ...o.run, signal: o.signal });
      } catch (e) {
        // An endpoint that fails for one neuron (after its retries) costs that neuron, not the batch.
        if (!(e instanceof LLMError) || e.reason === 'aborted') throw e;
        o.log?.(`L${layer}N${neuron}: ${e.message}`);
        yield { layer, neuron, maxActivation: nr.maxActivation, skipped: `endpoint failed: ${e.message}`, dreams: dreams.dreams };
        continue;
      }
      yield { layer, neuron, maxActivation: nr.maxActivation, without: u.without, with: u.with, delta: u.delta, dreams: dreams.dreams };
    }
  }
}

export interface UpliftSummary {
  neurons: number;
  skipped: number;
  /** Means over explained neurons; an undefined score counts as 0. */
  meanWithout: number;
  meanWith: number;
  meanDelta: number;
  /** Standard error of the mean delta. */
  seDelta: number;
  /** Neurons where dreams raised / lowered / left the score (|delta| < 1e-9). */
  better: number;
  worse: number;
  same: number;
}

export function summarizeUplift(rows: UpliftRow[]): UpliftSummary {
  const done = rows.filter((r) => r.without && r.with);
  const n = done.length;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const deltas = done.map((r) => r.delta!);
  const md = mean(deltas);
  const sd = n > 1 ? Math.sqrt(deltas.reduce((a, d) => a + (d - md) ** 2, 0) / (n - 1)) : Number.NaN;
  return {
    neurons: rows.length,
    skipped: rows.length - n,
    meanWithout: mean(done.map((r) => comparable(r.without!.score.all))),
    meanWith: mean(done.map((r) => comparable(r.with!.score.all))),
    meanDelta: md,
    seDelta: n > 1 ? sd / Math.sqrt(n) : Number.NaN,
    better: deltas.filter((d) => d > 1e-9).length,
    worse: deltas.filter((d) => d < -1e-9).length,
    same: deltas.filter((d) => Math.abs(d) <= 1e-9).length,
  };
}

const f = (x: number | undefined, digits = 3) => (x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const cell = (s: string, max = 60) => (s.length > max ? `${s.slice(0, max - 1)}…` : s).replace(/\|/g, '\\|').replace(/`/g, "'");

/** The table for the README: one row per neuron, then the means. */
export function upliftMarkdown(rows: UpliftRow[], s: UpliftSummary): string {
  const lines = [
    '| neuron | max act. | score without dreams | score with dreams | Δ | explanation without | explanation with |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    const id = `L${r.layer}N${r.neuron}`;
    if (!r.without || !r.with) {
      lines.push(`| ${id} | ${f(r.maxActivation)} | — | — | — | ${cell(r.skipped ?? '')} | |`);
      continue;
    }
    const d = r.delta!;
    lines.push(
      `| ${id} | ${f(r.maxActivation)} | ${f(r.without.score.all)} | ${f(r.with.score.all)} | ${d > 0 ? '+' : ''}${f(d)} | \`${cell(r.without.explanation)}\` | \`${cell(r.with.explanation)}\` |`,
    );
  }
  lines.push(
    `| **mean** (${s.neurons - s.skipped} neurons) | | **${f(s.meanWithout)}** | **${f(s.meanWith)}** | **${s.meanDelta > 0 ? '+' : ''}${f(s.meanDelta)}** ± ${f(s.seDelta)} | better ${s.better}, worse ${s.worse}, same ${s.same} | |`,
  );
  return lines.join('\n') + '\n';
}
