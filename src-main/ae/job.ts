// `textdream train-ae`: the model's corpus → sentences → resumable autoencoder training → held-out evaluation →
// ae.json + ae.safetensors beside the model (or in --out).
import { join } from 'node:path';
import type { CorpusName } from '../corpus/documents.js';
import type { LoadedModel } from '../model/load.js';
import { trainingSession } from '../train/session.js';
import { modelFingerprint, saveAutoencoder } from './files.js';
import { fitResidualHeads } from './residualHeads.js';
import { loadSentenceSplit } from './sentences.js';
import { AETrainer, reconstructionAccuracy, type TrainAEOptions } from './train.js';

/** Sentences of at least this many tokens are kept (shorter ones are mostly headings and fragments). */
export const AE_MIN_TOKENS = 4;
/** Sentences the residual heads' least squares is fitted on. */
export const RESIDUAL_FIT_SENTENCES = 4096;

/** The training settings a bare `train-ae` uses (the shipped autoencoders' recipe; AE_CARD.md). */
export const AE_TRAINING_DEFAULTS = {
  steps: 12000,
  batch: 64,
  lr: 2e-3,
  // σ bounds what z can carry (≈ ½·log2(1 + 1/σ²) bits per dimension): 0.1 held k = 32 back (AE_CARD.md).
  noise: 0.03,
  candidates: 4096,
  // Without it the points between two sentences decode to a blend of both, 1.3 nats above the corpus median (AE_CARD.md).
  mixNearest: 0.2,
} as const;

export function defaultTrainAE(lm: { config: { dModel: number; nLayer: number } }, k: number): TrainAEOptions {
  const d = lm.config.dModel;
  return {
    shape: {
      k,
      T: 20,
      dModel: d,
      nHead: d % 4 === 0 ? 4 : 1,
      dMlp: 4 * d,
      encLayers: 2,
      decLayers: 2,
      // Every intermediate layer, so --latent-layer can pick any of them.
      residLayers: Array.from({ length: Math.max(0, lm.config.nLayer - 1) }, (_, i) => i + 1),
      logits: 'dot',
      pool: 'flatten',
    },
    batch: AE_TRAINING_DEFAULTS.batch,
    steps: AE_TRAINING_DEFAULTS.steps,
    lr: AE_TRAINING_DEFAULTS.lr,
    warmupSteps: 100,
    minLrFraction: 0.05,
    weightDecay: 0.01,
    clipNorm: 1,
    seed: 1234,
    noise: AE_TRAINING_DEFAULTS.noise,
    embedWeight: 1,
    candidates: AE_TRAINING_DEFAULTS.candidates,
    mixNearest: AE_TRAINING_DEFAULTS.mixNearest,
    padWeight: 0.1,
    evalEvery: 250,
    evalSentences: 512,
    checkpointEvery: 50,
    logEvery: 10,
  };
}

export interface TrainAEJob {
  lm: LoadedModel;
  /** How the model was named on the command line (recorded in ae.json). */
  modelSpec: string;
  corpus: CorpusName;
  options: TrainAEOptions;
  workDir: string;
  outDir: string;
  /** The command line, recorded in ae.json so the artefact says how it was made. */
  command: string;
  signal?: AbortSignal;
  log?: (s: string) => void;
}

export interface TrainAEResult {
  completed: boolean;
  step: number;
  heldOutAccuracy?: number;
  exactSentences?: number;
  heldOutSentences?: number;
}

export async function runTrainAE(job: TrainAEJob): Promise<TrainAEResult> {
  const { log, signal, close } = trainingSession(join(job.workDir, 'train.log'), job.log, job.signal);
  const { model, tokenizer } = job.lm;
  const o = job.options;
  let trainer: AETrainer | null = null;
  try {
    log(`train-ae ${JSON.stringify({ model: job.modelSpec, corpus: job.corpus, ...o })}`);
    const split = await loadSentenceSplit(job.corpus, tokenizer, o.shape.T, AE_MIN_TOKENS, join(job.workDir, '..', 'sentences'), log);
    log(`${split.train.rows.length} train / ${split.heldOut.rows.length} held-out sentences of ${AE_MIN_TOKENS}-${o.shape.T} tokens`);
    trainer = new AETrainer(model, o, join(job.workDir, 'checkpoint'));
    await trainer.init(split.train.rows, log);
    await trainer.train(split.train.rows, split.heldOut.rows, log, signal);
    const step = trainer.state.step;
    if (step < o.steps) {
      log(`stopped at step ${step}; run the same command again to resume`);
      return { completed: false, step };
    }
    const evalRows = split.heldOut.rows;
    const residual = await fitResidualHeads(model, trainer.ae, split.train.rows.slice(0, RESIDUAL_FIT_SENTENCES), evalRows);
    if (residual.length) log(`residual heads (ridge fit on ${RESIDUAL_FIT_SENTENCES} train sentences), held-out R²: ${residual.map((r) => `layer ${r.layer} ${r.r2.toFixed(3)}`).join(', ')}`);
    const acc = await reconstructionAccuracy(model, trainer.ae, evalRows);
    log(`held-out reconstruction: token accuracy ${(100 * acc.accuracy).toFixed(1)} %, exact sentences ${(100 * acc.exact).toFixed(1)} % (${evalRows.length} sentences, ${acc.tokens} tokens)`);
    await saveAutoencoder(trainer.ae, job.outDir, {
      model: await modelFingerprint(model),
      training: {
        command: job.command,
        model: job.modelSpec,
        corpus: job.corpus,
        sentences: { train: split.train.rows.length, heldOut: split.heldOut.rows.length, minTokens: AE_MIN_TOKENS, maxTokens: o.shape.T, split: 'by document, as train-lm (seed 1234, 5 % held out)' },
        options: o,
        steps: step,
        log: trainer.state.log.filter((e) => e.heldOutAccuracy !== undefined),
      },
      metrics: { residualR2: residual, heldOutTokenAccuracy: acc.accuracy, heldOutExactSentences: acc.exact, heldOutSentences: evalRows.length, heldOutTokens: acc.tokens },
    });
    log(`exported ${job.outDir}`);
    return { completed: true, step, heldOutAccuracy: acc.accuracy, exactSentences: acc.exact, heldOutSentences: evalRows.length };
  } finally {
    trainer?.dispose();
    close();
  }
}
