// `textdream train-lm`: train the embedded default GPT-2 (or any small shape) from scratch on English text,
// resumably: a stopped run (Ctrl-C, or killed) continues from its last checkpoint when run again.
import { join, resolve } from 'node:path';
import { CORPUS_NAMES, CorpusPackageMissingError, type CorpusName } from '../../corpus/documents.js';
import { defaultModelDir, projectRoot } from '../../model/load.js';
import { DEFAULT_TRAIN_LM, runTrainLM } from '../../train/trainLMJob.js';
import type { LMShape, TrainLMOptions } from '../../train/trainLM.js';
import { intOption } from '../args.js';
import { defineCommand, printJSON, UsageError } from '../command.js';
import { describeBackend, startBackend } from '../model.js';
import { parseChoice, parseNumber } from '../progress.js';
import { checkResumable } from '../resumable.js';

const D = DEFAULT_TRAIN_LM;

/** Where checkpoints, the token cache and the log live unless --work says otherwise. */
export function defaultWorkDir(): string {
  return join(projectRoot(), '.cache', 'train-lm');
}

export default defineCommand({
  name: 'train-lm',
  summary: 'train a small GPT-2 from scratch on Brown + State of the Union (resumable) and export it',
  usage: '[--corpus <brown+sotu|brown|sotu>] [--steps <n>] [--out <dir>] [--work <dir>] [shape and optimiser options]',
  options: {
    corpus: { type: 'string', arg: `<${CORPUS_NAMES.join('|')}>`, description: 'training text (default brown+sotu)' },
    steps: { type: 'string', arg: '<n>', description: `optimiser steps in all, counting resumed ones (default ${D.steps})` },
    out: { type: 'string', arg: '<dir>', description: 'where the finished model is written in Hugging Face layout (default: the embedded default model folder)' },
    work: { type: 'string', arg: '<dir>', description: 'checkpoints, token cache and train.log (default .cache/train-lm in the project)' },
    layers: { type: 'string', arg: '<L>', description: `transformer blocks (default ${D.shape.nLayer})` },
    'd-model': { type: 'string', arg: '<d>', description: `residual width; the MLP is 4·d wide (default ${D.shape.dModel})` },
    heads: { type: 'string', arg: '<h>', description: `attention heads, must divide --d-model (default ${D.shape.nHead})` },
    context: { type: 'string', arg: '<T>', description: `context length in tokens (default ${D.shape.context})` },
    batch: { type: 'string', arg: '<B>', description: `sequences per step (default ${D.batch})` },
    lr: { type: 'string', arg: '<x>', description: `peak learning rate, warm-up then cosine decay (default ${D.lr})` },
    seed: { type: 'string', arg: '<s>', description: `initialisation and batch-sampling seed (default ${D.seed})` },
  },
  async run(values, _positionals, io) {
    const corpus: CorpusName = parseChoice(values.corpus, '--corpus', CORPUS_NAMES) ?? 'brown+sotu';
    const dModel = intOption(values['d-model'], '--d-model', 1, 4096) ?? D.shape.dModel;
    const nHead = intOption(values.heads, '--heads', 1, 256) ?? D.shape.nHead;
    if (dModel % nHead !== 0) throw new UsageError(`--heads ${nHead} must divide --d-model ${dModel}`);
    const shape: LMShape = {
      ...D.shape,
      nLayer: intOption(values.layers, '--layers', 1, 48) ?? D.shape.nLayer,
      dModel,
      nHead,
      dMlp: values['d-model'] !== undefined ? 4 * dModel : D.shape.dMlp,
      context: intOption(values.context, '--context', 2, 1024) ?? D.shape.context,
    };
    const options: TrainLMOptions = {
      ...D,
      shape,
      steps: intOption(values.steps, '--steps', 1, 10_000_000) ?? D.steps,
      batch: intOption(values.batch, '--batch', 1, 4096) ?? D.batch,
      lr: parseNumber(values.lr, '--lr', { min: 0 }) ?? D.lr,
      seed: intOption(values.seed, '--seed', 0, 2 ** 31 - 1) ?? D.seed,
    };
    if (values.out === '') throw new UsageError('--out is empty: give a folder for the trained model');
    if (values.work === '') throw new UsageError('--work is empty: give a folder for checkpoints');
    const outDir = resolve(values.out ?? defaultModelDir());
    const workDir = resolve(values.work ?? defaultWorkDir());
    checkResumable(workDir, shape, 'shape', 'shape flags');

    const backend = await startBackend(values.backend, io);
    if (backend.name !== 'tensorflow') {
      io.stderr(
        `note: the native TensorFlow backend is not available (running ${describeBackend(backend)}); the default size ` +
          `(${D.shape.nLayer} layers, d_model ${D.shape.dModel}, context ${D.shape.context}) is the one sized for wasm\n`,
      );
    }
    io.stderr(`training ${corpus} → ${outDir} (work folder ${workDir}; log ${join(workDir, 'train.log')})\n`);
    let result: Awaited<ReturnType<typeof runTrainLM>>;
    try {
      result = await runTrainLM({ corpus, options, workDir, outDir, log: (line) => io.stderr(line + '\n') });
    } catch (e) {
      if (e instanceof CorpusPackageMissingError) throw new UsageError(e.message);
      throw e;
    }
    const { completed, trainer } = result;
    try {
      const step = trainer.state.step;
      const last = trainer.state.log.at(-1);
      if (values.json) {
        printJSON(io, { completed, step, steps: options.steps, out: completed ? outDir : null, work: workDir, corpus, options, last: last ?? null });
      } else if (completed) {
        io.stdout(`trained ${step}/${options.steps} steps; model written to ${outDir}\n`);
        if (last) io.stdout(`last logged loss ${last.loss.toFixed(3)}${last.heldOutLoss !== undefined ? `, held-out ${last.heldOutLoss.toFixed(3)} nats/token` : ''}\n`);
        io.stdout(`evaluate it with: textdream eval-lm --model ${outDir}\n`);
      }
      if (!completed) {
        io.stderr(`stopped early at step ${step}/${options.steps}; to resume, run the same command again\n`);
        return 3;
      }
      return 0;
    } finally {
      trainer.dispose();
    }
  },
});
