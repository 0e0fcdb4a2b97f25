// One neuron job, a plain function of its job data, the store and a loaded model (no queue, no loop): make sure the
// corpus scan exists, dream the neuron with each configured method, explain and score it from the scan's records,
// and write everything with its page in one transaction. Stopped by its AbortSignal between (and inside) stages,
// it writes nothing and throws SweepAbortedError.
import type { DreamResult, StepRecord } from '../dream/loop.js';
import { dreamToEnd, runDream } from '../dream/run.js';
import { dreamRecordsOf } from '../explain/dreams.js';
import { explainNeuron, explainUplift, type ExplanationRun } from '../explain/pipeline.js';
import { explanationRow, recordsFromScan } from '../explain/store.js';
import type { Explainer, Simulator } from '../explain/types.js';
import type { SeedSource } from '../dream/seeded.js';
import type { GPT2 } from '../model/gpt2.js';
import type { ReadabilityJudge } from '../readability/judge.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { ExperimentHistory, ModelRef, SweepCompletion, SweepStore } from '../store/types.js';
import { JobMismatchError, NeuronJobError, SweepAbortedError } from './errors.js';
import type { TargetSpec } from '../dream/config.js';
import { jobKey, jobLabel, saeLayer, settingsHash } from './jobs.js';
import { buildSweepPage } from './page.js';
import type { ScanSource } from './scan.js';
import type { SweepJob, SweepPage } from './types.js';

export interface NeuronJobContext {
  model: GPT2;
  tokenizer: TextTokenizer;
  /** The model's folder (where dreams look for files beside the model). */
  modelDir?: string;
  modelRef: ModelRef;
  store: ExperimentHistory & SweepStore;
  scans: ScanSource;
  /** Its name must be the settings' `explain.explainer` (`offline`, `llm:<model>`). */
  explainer: Explainer;
  simulator: Simulator;
  /** Judges every dream's readability, so a page names its most activating readable dream. */
  judge: ReadabilityJudge;
  /** `seeded`'s corpus windows (dream/seedPool.ts shippedSeedSource); needed only when the settings dream `seeded`. */
  seedSource?: SeedSource;
  /** For an LLM explainer: its endpoint and model, kept with the explanation (never a key). */
  llm?: { baseURL: string; model: string } | null;
}

export interface NeuronJobOptions {
  signal?: AbortSignal;
  /** Replace the job's page when it exists (`--force`) instead of leaving it. */
  replace?: boolean;
}

export interface NeuronJobOutcome {
  /** False when the page was there already (another run finished the job first): nothing was written. */
  written: boolean;
  page: SweepPage;
  score: number | null;
  /** Compute time of the job, not counting the scan. */
  elapsedMs: number;
}

function checkJob(job: SweepJob, ctx: NeuronJobContext): void {
  // A queue may hand any job to any worker: refuse work this worker's model or explainer would get wrong.
  if (job.model !== ctx.modelRef.fingerprint) throw new JobMismatchError(`job ${jobLabel(job)} is for model ${job.model}, but this worker has ${ctx.modelRef.fingerprint} (${ctx.modelRef.spec}) loaded`);
  if (settingsHash(job.settings) !== job.settingsHash) throw new JobMismatchError(`job ${jobLabel(job)}: its settings do not hash to its settings hash ${job.settingsHash}`);
  if (ctx.explainer.name !== job.settings.explain.explainer) throw new JobMismatchError(`job ${jobLabel(job)} asks for the ${job.settings.explain.explainer} explainer, but this worker has ${ctx.explainer.name}`);
  const { nLayer, dMlp } = ctx.model.config;
  const sae = job.settings.scan.sae;
  if (sae) {
    if (job.layer !== saeLayer(sae) || job.neuron < 0 || job.neuron >= sae.latents) throw new JobMismatchError(`job ${jobLabel(job)} is outside the SAE ${sae.spec} (layer ${saeLayer(sae)}, latents 0-${sae.latents - 1})`);
  } else if (job.layer < 0 || job.layer >= nLayer || job.neuron < 0 || job.neuron >= dMlp) throw new JobMismatchError(`job ${jobLabel(job)} is outside this model (layers 0-${nLayer - 1}, neurons 0-${dMlp - 1})`);
}

function stopIfAborted(signal: AbortSignal | undefined, job: SweepJob, stage: string): void {
  if (signal?.aborted) throw new SweepAbortedError(`${jobLabel(job)} stopped ${stage}`);
}

export async function runNeuronJob(job: SweepJob, ctx: NeuronJobContext, opts: NeuronJobOptions = {}): Promise<NeuronJobOutcome> {
  const { signal } = opts;
  checkJob(job, ctx);
  stopIfAborted(signal, job, 'before it started');
  const scan = await ctx.scans.ensure(job.settings.scan, signal);
  stopIfAborted(signal, job, 'after the scan');
  const t0 = performance.now();

  const dreams: SweepCompletion['dreams'] = [];
  const sae = job.settings.scan.sae;
  const target: TargetSpec = sae ? { kind: 'sae', sae: sae.spec, latent: job.neuron } : { kind: 'neuron', layer: job.layer, neuron: job.neuron };
  for (const config of job.settings.dreams) {
    const records: StepRecord[] = [];
    const full = { ...config, target };
    const result: DreamResult = await dreamToEnd(runDream({ model: ctx.model, tokenizer: ctx.tokenizer, modelDir: ctx.modelDir, judge: ctx.judge, seedSource: ctx.seedSource }, full, signal), (r) => records.push(r));
    if (result.stopped === 'aborted') throw new SweepAbortedError(`${jobLabel(job)} stopped while dreaming (${config.method}, step ${result.steps}/${config.steps})`);
    dreams.push({ config: full, records, result });
  }

  const stored = recordsFromScan(ctx.store, scan, job.layer, job.neuron);
  if (!stored) {
    throw new NeuronJobError(`${jobLabel(job)}: scan ${scan.id} keeps too few windows to explain it from (2 top and 1 random needed): scan more text (--max-tokens) or keep more (--top, --random)`);
  }
  const nr = stored.records;
  const explainOpts = { signal };
  let runs: ExplanationRun[];
  let uplift: number | undefined;
  const dreamed = dreamRecordsOf(dreams.map((d) => d.result));
  if (job.settings.explain.withDreams) {
    const u = await explainUplift(nr, ctx.explainer, ctx.simulator, dreamed.records, explainOpts);
    runs = [u.with, u.without];
    uplift = u.delta;
  } else {
    runs = [await explainNeuron(nr, ctx.explainer, ctx.simulator, [], explainOpts)];
  }
  stopIfAborted(signal, job, 'while explaining');

  const stats = ctx.store.neuronPage({ model: scan.modelFingerprint, layer: job.layer, neuron: job.neuron, scanId: scan.id, examples: 0, random: 0 })?.stats ?? null;
  const page = buildSweepPage({
    layer: job.layer,
    neuron: job.neuron,
    stats,
    maxActivation: nr.maxActivation,
    dreams: dreams.map((d) => d.result),
    explanation: runs[0],
    withoutDreams: runs[1],
    uplift,
  });
  const explanations = runs.map((r) =>
    explanationRow(r, { modelFingerprint: job.model, scanId: scan.id, records: `scan ${scan.id} of ${scan.corpus}`, llm: ctx.llm ?? null, dreams: dreamed.dreams, sae: sae?.fingerprint ?? null }),
  );
  const elapsedMs = performance.now() - t0;
  const score = page.explanation.score;
  const completion: SweepCompletion = { key: jobKey(job), settings: job.settings, model: ctx.modelRef, scanId: scan.id, dreams, explanations, score, page, elapsedMs };
  const written = ctx.store.completeSweepJob(completion, { replace: opts.replace }) === 'written';
  return { written, page, score, elapsedMs };
}
