// `explain.run`: the explanation module (src-main/explain) behind the contract. Records come from the store's
// corpus scan of the neuron's layer when there is one, else from held-out corpus windows computed here; the
// offline explainer and simulator write and score the explanation; with dreams, a short fluent dream adds
// synthetic records and the uplift is reported. Explanations are saved in the store.
import type { ExplainResult } from '../api/contract.js';
import { checkNeuron } from '../dream/objectives.js';
import { dreamRecords, type DreamRecords } from '../explain/dreams.js';
import { offlineExplainer, offlineSimulator } from '../explain/offline.js';
import { explainNeuron, explainUplift, type ExplanationRun } from '../explain/pipeline.js';
import { computeNeuronRecords, defaultWindow, heldOutStream, windowStarts } from '../explain/records.js';
import { recordsFromStore, saveExplanation } from '../explain/store.js';
import type { ExperimentHistory } from '../store/types.js';
import { InvalidRequestError } from './errors.js';
import type { ModelHost } from './models.js';
import type { TaskRegistry } from './tasks.js';
import * as check from './validate.js';

/** Held-out tokens read when no scan covers the layer (a quick answer; a scan gives better records). */
export const DEFAULT_EXPLAIN_TOKENS = 20_000;

export interface ExplainDeps {
  models: ModelHost;
  tasks: TaskRegistry;
  history: ExperimentHistory;
}

const view = (r: ExplanationRun) => ({
  withDreams: r.withDreams,
  explanation: r.explanation,
  explainer: r.explainer,
  simulator: r.simulator,
  score: { all: r.score.all, top: r.score.top, random: r.score.random, failed: r.score.failed },
  counts: r.counts,
  elapsedMs: r.elapsedMs,
});

export function explainHandler(deps: ExplainDeps): (req: unknown) => Promise<ExplainResult> {
  return async (raw) => {
    const r = check.object(raw, 'request');
    const layer = check.int(r.layer, 'layer');
    const neuron = check.int(r.neuron, 'neuron');
    const withDreams = r.withDreams === undefined ? false : r.withDreams === true || r.withDreams === false ? r.withDreams : null;
    if (withDreams === null) throw new InvalidRequestError('withDreams must be true or false');
    const corpusTokens = check.optionalInt(r.corpusTokens, 'corpusTokens', 64, 100_000_000) ?? DEFAULT_EXPLAIN_TOKENS;
    const dreamSteps = check.optionalInt(r.dreamSteps, 'dreamSteps', 1, 100_000);
    const seed = check.optionalInt(r.seed, 'seed', 0, 2 ** 31 - 1) ?? 0;
    const { lm, ref } = deps.models.require();
    checkNeuron(lm.model, layer, neuron);

    const task = deps.tasks.begin('explain', `explain L${layer}N${neuron}${withDreams ? ' with dreams' : ''}`);
    const stages = withDreams ? 3 : 2;
    try {
      task.progress(0, stages, 'records');
      const stored = recordsFromStore(deps.history, ref.fingerprint, layer, neuron);
      let nr;
      let describe: string;
      if (stored) {
        nr = stored.records;
        describe = `scan ${stored.scanId} of ${stored.corpus}`;
      } else {
        const stream = await heldOutStream(lm.tokenizer, 'brown+sotu');
        const windowTokens = defaultWindow(lm.config.nPositions);
        const windows = windowStarts(stream, windowTokens, corpusTokens).length;
        nr = computeNeuronRecords(lm.model, lm.tokenizer, stream, layer, [neuron], { windowTokens, maxTokens: corpusTokens, seed }).get(neuron)!;
        describe = `${windows} held-out windows of ${windowTokens} tokens (brown+sotu, first ${corpusTokens} tokens; no scan of layer ${layer} in the store)`;
      }
      if (task.signal.aborted) throw new DOMException('cancelled', 'AbortError');
      const explainer = offlineExplainer();
      const simulator = offlineSimulator();
      const opts = { signal: task.signal };
      let runs: ExplanationRun[];
      let dreams: DreamRecords | null = null;
      let uplift: number | null = null;
      if (withDreams) {
        task.progress(1, stages, 'dreaming');
        dreams = await dreamRecords({ model: lm.model, tokenizer: lm.tokenizer }, { kind: 'neuron', layer, neuron }, { seed, ...(dreamSteps ? { steps: dreamSteps } : {}) }, task.signal);
        task.progress(2, stages, 'explaining and scoring');
        const u = await explainUplift(nr, explainer, simulator, dreams.records, opts);
        runs = [u.without, u.with];
        uplift = u.delta;
      } else {
        task.progress(1, stages, 'explaining and scoring');
        runs = [await explainNeuron(nr, explainer, simulator, [], opts)];
      }
      const saved = runs.map((run) => saveExplanation(deps.history, run, { modelFingerprint: ref.fingerprint, scanId: stored?.scanId ?? null, records: describe, dreams: dreams?.dreams }).id);
      task.finish();
      return { layer, neuron, records: describe, maxActivation: nr.maxActivation, runs: runs.map(view), dreams: dreams?.dreams ?? null, uplift, saved };
    } catch (e) {
      task.finish(e);
      throw e;
    }
  };
}
