// `textdream train-ae`: train the sentence autoencoder whose k-dimensional latent `dream --method latent` optimises,
// for the chosen model (default: the embedded one), resumably, and write it beside the model.
import { join, resolve } from 'node:path';
import { autoencoderDirFor } from '../../ae/files.js';
import { AE_TRAINING_DEFAULTS, defaultTrainAE, runTrainAE } from '../../ae/job.js';
import { CORPUS_NAMES, CorpusPackageMissingError, type CorpusName } from '../../corpus/documents.js';
import { projectRoot } from '../../model/load.js';
import { intOption } from '../args.js';
import { defineCommand, printJSON, UsageError } from '../command.js';
import { describeBackend, openModel } from '../model.js';
import { parseChoice, parseNumber } from '../progress.js';

export default defineCommand({
  name: 'train-ae',
  summary: 'train the sentence autoencoder (k-dimensional latent) for a model, resumably, and write it beside the model',
  usage: '[--model <dir|hub id>] [--k <k>] [--steps <n>] [--out <dir>] [--work <dir>] [--corpus <c>]',
  options: {
    k: { type: 'string', arg: '<k>', description: 'latent size, 2-512 (default 32; the study used 10-100)' },
    steps: { type: 'string', arg: '<n>', description: `optimiser steps in all, counting resumed ones (default ${AE_TRAINING_DEFAULTS.steps})` },
    batch: { type: 'string', arg: '<B>', description: `sentences per step (default ${AE_TRAINING_DEFAULTS.batch})` },
    lr: { type: 'string', arg: '<x>', description: `peak learning rate (default ${AE_TRAINING_DEFAULTS.lr})` },
    noise: { type: 'string', arg: '<σ>', description: `latent noise during training, per unit-variance dimension (default ${AE_TRAINING_DEFAULTS.noise})` },
    candidates: { type: 'string', arg: '<n>', description: `softmax over the n most frequent tokens plus the batch's own; 0 for the whole vocabulary (default ${AE_TRAINING_DEFAULTS.candidates})` },
    'mix-nearest': { type: 'string', arg: '<w>', description: `weight of mixup toward the nearer sentence: a point between two sentences' latents learns to decode to the one it is closer to; 0 = off (default ${AE_TRAINING_DEFAULTS.mixNearest})` },
    corpus: { type: 'string', arg: `<${CORPUS_NAMES.join('|')}>`, description: 'sentences to learn (default brown+sotu, the default model\'s corpus)' },
    out: { type: 'string', arg: '<dir>', description: 'where ae.json and ae.safetensors go (default <model folder>/autoencoders/k<k>)' },
    work: { type: 'string', arg: '<dir>', description: 'checkpoint and train.log (default .cache/train-ae/<model>-k<k>)' },
    seed: { type: 'string', arg: '<s>', description: 'initialisation, batch order and noise seed (default 1234)' },
  },
  async run(values, _positionals, io) {
    const k = intOption(values.k, '--k', 2, 512) ?? 32;
    const corpus: CorpusName = parseChoice(values.corpus, '--corpus', CORPUS_NAMES) ?? 'brown+sotu';
    if (values.out === '') throw new UsageError('--out is empty: give a folder for the autoencoder');
    if (values.work === '') throw new UsageError('--work is empty: give a folder for checkpoints');
    const { lm, backend, spec } = await openModel(values, io);
    try {
      const d = defaultTrainAE(lm, k);
      const options = {
        ...d,
        steps: intOption(values.steps, '--steps', 1, 10_000_000) ?? d.steps,
        batch: intOption(values.batch, '--batch', 1, 4096) ?? d.batch,
        lr: parseNumber(values.lr, '--lr', { min: 0 }) ?? d.lr,
        noise: parseNumber(values.noise, '--noise', { min: 0 }) ?? d.noise,
        candidates: intOption(values.candidates, '--candidates', 0, 10_000_000) ?? d.candidates,
        mixNearest: parseNumber(values['mix-nearest'], '--mix-nearest', { min: 0 }) ?? d.mixNearest,
        seed: intOption(values.seed, '--seed', 0, 2 ** 31 - 1) ?? d.seed,
      };
      const outDir = resolve(values.out ?? autoencoderDirFor(lm.source.dir, k));
      const modelName = spec.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? 'model';
      const workDir = resolve(values.work ?? join(projectRoot(), '.cache', 'train-ae', `${modelName}-k${k}`));
      io.stderr(`training the k=${k} sentence autoencoder of ${spec} on ${describeBackend(backend)} → ${outDir} (log ${join(workDir, 'train.log')})\n`);
      let r;
      try {
        r = await runTrainAE({ lm, modelSpec: spec, corpus, options, workDir, outDir, command: `textdream train-ae ${process.argv.slice(3).join(' ')}`.trim(), log: (l) => io.stderr(l + '\n') });
      } catch (e) {
        if (e instanceof CorpusPackageMissingError) throw new UsageError(e.message);
        throw e;
      }
      if (values.json) printJSON(io, { ...r, k, out: r.completed ? outDir : null, work: workDir });
      else if (r.completed) io.stdout(`trained ${r.step} steps; held-out token accuracy ${(100 * r.heldOutAccuracy!).toFixed(1)} % over ${r.heldOutSentences} sentences; written to ${outDir}\n`);
      if (!r.completed) {
        io.stderr(`stopped early at step ${r.step}/${options.steps}; to resume, run the same command again\n`);
        return 3;
      }
      return 0;
    } finally {
      lm.model.dispose();
    }
  },
});
