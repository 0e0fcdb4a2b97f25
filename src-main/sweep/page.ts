// A neuron's sweep page from what its job computed. Results only, numbers that are not finite as null (JSON has no
// NaN), so pages of equal jobs are equal documents.
import type { Dream, DreamResult } from '../dream/loop.js';
import { isEdited } from '../dream/records.js';
import type { ExplanationRun } from '../explain/pipeline.js';
import type { NeuronStatsView } from '../store/types.js';
import type { SweepDreamSummary, SweepExplanationSummary, SweepPage } from './types.js';

const finite = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

const dreamSummary = (d: Dream): SweepDreamSummary => ({
  label: d.label,
  text: d.text,
  value: finite(d.value),
  ce: finite(d.ce),
  percentile: finite(d.readability?.percentile),
  // A seed no edit changed is corpus text, not a dream: never shown as a readable one.
  readable: (d.readability?.readable ?? false) && isEdited(d),
  edits: d.origin ? d.origin.edits : null,
});

export function explanationSummary(r: ExplanationRun): SweepExplanationSummary {
  return {
    text: r.explanation,
    explainer: r.explainer,
    simulator: r.simulator,
    withDreams: r.withDreams,
    score: finite(r.score.all),
    scoreTop: finite(r.score.top),
    scoreRandom: finite(r.score.random),
  };
}

export interface PageParts {
  layer: number;
  neuron: number;
  stats: NeuronStatsView | null;
  maxActivation: number;
  dreams: DreamResult[];
  /** The page's explanation. */
  explanation: ExplanationRun;
  /** With dreams: the explanation from corpus records alone, and the uplift. */
  withoutDreams?: ExplanationRun;
  uplift?: number;
}

/** The dream a page is shown by: the most activating readable one over its methods, else the most activating one. */
export function pageDream(page: SweepPage): SweepDreamSummary | null {
  const most = (ds: (SweepDreamSummary | null)[]) =>
    ds.reduce<SweepDreamSummary | null>((a, d) => (d && (!a || (d.value ?? -Infinity) > (a.value ?? -Infinity)) ? d : a), null);
  return most(page.dreams.map((d) => d.bestReadable)) ?? most(page.dreams.map((d) => d.best));
}

export function buildSweepPage(p: PageParts): SweepPage {
  return {
    format: 'textdream-sweep-page',
    layer: p.layer,
    neuron: p.neuron,
    stats: p.stats ? { count: p.stats.count, mean: finite(p.stats.mean), max: finite(p.stats.max), positive: finite(p.stats.positive) } : null,
    maxActivation: finite(p.maxActivation),
    dreams: p.dreams.map((r) => ({
      method: r.method,
      steps: r.steps,
      best: r.best ? dreamSummary(r.best) : null,
      bestReadable: r.bestReadable ? dreamSummary(r.bestReadable) : null,
      bestPerLabel: r.bestPerLabel.map(dreamSummary),
    })),
    explanation: explanationSummary(p.explanation),
    withoutDreams: p.withoutDreams ? explanationSummary(p.withoutDreams) : null,
    uplift: finite(p.uplift),
  };
}
