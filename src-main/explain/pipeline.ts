// One explanation, end to end: split the records, explain (optionally with dreams as synthetic records),
// simulate every held-out record from the explanation alone, score. And the uplift: the same explainer and
// simulator without and with dreams, on the same held-out records.
import { LLMError } from './openai.js';
import { SimulationParseError } from './parse.js';
import { splitRecords, type SplitOptions } from './protocol.js';
import { scoreSimulations, type ScoreSummary, type Simulated } from './score.js';
import type { ActivationRecord, Explainer, NeuronRecords, Simulator } from './types.js';

/** The reason when `e` costs one record (its reply could not be read); null when it should stop the run. */
function recordFailure(e: unknown): string | null {
  if (e instanceof SimulationParseError) return e.message;
  if (e instanceof LLMError && e.reason === 'malformed') return e.message;
  return null;
}

export interface ExplanationRun {
  layer: number;
  neuron: number;
  explainer: string;
  simulator: string;
  withDreams: boolean;
  explanation: string;
  score: ScoreSummary;
  /** How many records of each kind went in. */
  counts: { explain: number; synthetic: number; scoreTop: number; scoreRandom: number };
  maxActivation: number;
  elapsedMs: number;
}

export interface ExplainRunOptions {
  split?: SplitOptions;
  signal?: AbortSignal;
  /** Progress lines (one per simulated record). */
  log?: (line: string) => void;
}

/** Explain a neuron from its records (plus `synthetic` ones), then score the explanation on held-out records. */
export async function explainNeuron(
  nr: NeuronRecords,
  explainer: Explainer,
  simulator: Simulator,
  synthetic: ActivationRecord[] = [],
  opts: ExplainRunOptions = {},
): Promise<ExplanationRun> {
  const t0 = Date.now();
  const split = splitRecords(nr, opts.split);
  if (!split.explain.length) throw new RangeError(`L${nr.layer}N${nr.neuron} has no top records to explain from`);
  const explanation = await explainer.explain(
    { layer: nr.layer, neuron: nr.neuron, records: split.explain, synthetic, maxActivation: nr.maxActivation },
    opts.signal,
  );
  const jobs = [
    ...split.scoreTop.map((record, index) => ({ kind: 'top' as const, index, record })),
    ...split.scoreRandom.map((record, index) => ({ kind: 'random' as const, index, record })),
  ];
  const simulated: Simulated[] = [];
  for (const j of jobs) {
    try {
      simulated.push({ ...j, simulated: await simulator.simulate(explanation, j.record.tokens, opts.signal) });
    } catch (e) {
      const reason = recordFailure(e);
      if (reason === null) throw e;
      opts.log?.(`L${nr.layer}N${nr.neuron} ${j.kind} record ${j.index}: ${reason}`);
      simulated.push({ ...j, simulated: null, error: reason });
    }
  }
  return {
    layer: nr.layer,
    neuron: nr.neuron,
    explainer: explainer.name,
    simulator: simulator.name,
    withDreams: synthetic.length > 0,
    explanation,
    score: scoreSimulations(simulated),
    counts: { explain: split.explain.length, synthetic: synthetic.length, scoreTop: split.scoreTop.length, scoreRandom: split.scoreRandom.length },
    maxActivation: nr.maxActivation,
    elapsedMs: Date.now() - t0,
  };
}

export interface Uplift {
  without: ExplanationRun;
  with: ExplanationRun;
  /** with.score.all − without.score.all, an undefined score counted as 0 (an explanation that predicts nothing). */
  delta: number;
}

/** A score for comparisons: NaN (undefined correlation, e.g. a constant simulation) counts as 0. */
export function comparable(score: number): number {
  return Number.isFinite(score) ? score : 0;
}

export async function explainUplift(nr: NeuronRecords, explainer: Explainer, simulator: Simulator, synthetic: ActivationRecord[], opts: ExplainRunOptions = {}): Promise<Uplift> {
  const without = await explainNeuron(nr, explainer, simulator, [], opts);
  const withDreams = await explainNeuron(nr, explainer, simulator, synthetic, opts);
  return { without, with: withDreams, delta: comparable(withDreams.score.all) - comparable(without.score.all) };
}
