// `textdream train-lm`: corpus → split → tokens → resumable training → Hugging Face export. Stops cleanly
// (checkpoint first) on SIGINT/SIGTERM or an AbortSignal, so a stopped run resumes where it was.
import { join } from 'node:path';
import type { CorpusName } from '../corpus/documents.js';
import { loadLMCorpus } from './lmCorpus.js';
import { exportHFModel } from './exportModel.js';
import { LMTrainer, type TrainLMOptions } from './trainLM.js';
import { trainingSession } from './session.js';

export const DEFAULT_TRAIN_LM: TrainLMOptions = {
  // The shipped default's recipe (~35 min on the native backend, ~3.5 h on wasm): resources/models/*/MODEL_CARD.md.
  shape: { nLayer: 4, dModel: 128, nHead: 4, dMlp: 512, context: 64, vocabSize: 50257 },
  batch: 8,
  steps: 5500,
  lr: 3e-3,
  warmupSteps: 50,
  minLrFraction: 0.1,
  weightDecay: 0.1,
  clipNorm: 1.0,
  seed: 1234,
  evalEvery: 250,
  evalTokens: 4096,
  checkpointEvery: 50,
  logEvery: 10,
};

export interface TrainLMJob {
  corpus: CorpusName;
  options: TrainLMOptions;
  /** Checkpoints, token cache and the log live here. */
  workDir: string;
  /** Where the trained model is written in HF layout. */
  outDir: string;
  logFile?: string;
  signal?: AbortSignal;
  log?: (s: string) => void;
}

export async function runTrainLM(job: TrainLMJob): Promise<{ completed: boolean; trainer: LMTrainer }> {
  const { log, signal, close } = trainingSession(job.logFile ?? join(job.workDir, 'train.log'), job.log, job.signal);
  try {
    log(`train-lm ${JSON.stringify({ corpus: job.corpus, ...job.options })}`);
    const corpus = await loadLMCorpus(job.corpus, join(job.workDir, 'tokens'), log);
    log(`train ${corpus.train.tokens.length} tokens, held-out ${corpus.heldOut.tokens.length} tokens`);
    const trainer = new LMTrainer(job.options, join(job.workDir, 'checkpoint'));
    await trainer.init(log);
    await trainer.train(corpus.train.tokens, corpus.heldOut.tokens, log, signal);
    const completed = trainer.state.step >= job.options.steps;
    if (completed) {
      await exportHFModel(trainer.model, job.outDir, 'F16');
      log(`exported ${job.outDir}`);
    } else log(`stopped at step ${trainer.state.step}; run the same command again to resume`);
    return { completed, trainer };
  } finally {
    close();
  }
}
