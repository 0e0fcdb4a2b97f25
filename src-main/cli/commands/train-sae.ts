// `textdream train-sae`: train a TopK sparse autoencoder on one hook of the model (residual stream before or after
// a block, or the MLP's output) over the model's training text, resumably, and write it in SAELens's layout beside
// the model, where loadSae reads it.
import { existsSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { CORPUS_NAMES, CorpusPackageMissingError } from '../../corpus/documents.js';
import { projectRoot } from '../../model/load.js';
import { SAE_SITES, saeHookPoint, SaeDataError } from '../../sae/activations.js';
import { isBundledCorpus } from '../../sae/corpus.js';
import { saeDirFor } from '../../sae/load.js';
import { runTrainSae, saeModelName, saeTrainingOptions, SAE_TRAINING_DEFAULTS } from '../../sae/job.js';
import { inRange, intOption, parseInteger } from '../args.js';
import { defineCommand, printJSON, UsageError } from '../command.js';
import { describeBackend, openModel } from '../model.js';
import { fmt, parseChoice, parseNumber } from '../progress.js';
import { checkResumable } from '../resumable.js';

const D = SAE_TRAINING_DEFAULTS;
/** Windows are the model's context, up to this many tokens (SAELens's usual context_size). */
const MAX_CONTEXT = 128;

/** --corpus: a bundled corpus, or a .txt/.jsonl file that exists. */
function checkCorpus(spec: string): string {
  if (isBundledCorpus(spec)) return spec;
  const ext = extname(spec).toLowerCase();
  if (ext !== '.txt' && ext !== '.jsonl') throw new UsageError(`--corpus must be one of ${CORPUS_NAMES.join(', ')} or a .txt/.jsonl file; got "${spec}"`);
  if (!existsSync(spec)) throw new UsageError(`--corpus ${spec}: no such file; give an existing .txt/.jsonl file or one of ${CORPUS_NAMES.join(', ')}`);
  return spec;
}

export default defineCommand({
  name: 'train-sae',
  summary: 'train a TopK sparse autoencoder on one hook of the model (resumable) and write it in SAELens layout beside the model',
  usage: '--layer <L> [--site resid_pre|resid_post|mlp_out] [--d-sae <n>] [--k <k>] [--steps <n>] [--batch <tokens>] [--lr <x>] [--corpus <c>] [--work <dir>] [--out <dir>] [--seed <s>]',
  options: {
    layer: { type: 'string', arg: '<L>', description: 'the block whose activations the SAE learns (required)' },
    site: { type: 'string', arg: `<${SAE_SITES.join('|')}>`, description: `which activations of the block: the residual stream entering or leaving it, or the MLP's output (default ${D.site})` },
    'd-sae': { type: 'string', arg: '<n>', description: `latents (default ${D.expansion} × d_model)` },
    k: { type: 'string', arg: '<k>', description: `latents active per token, at most --d-sae (default ${D.k})` },
    steps: { type: 'string', arg: '<n>', description: `optimiser steps in all, counting resumed ones (default ${D.steps})` },
    batch: { type: 'string', arg: '<tokens>', description: `tokens per step (default ${D.batch})` },
    lr: { type: 'string', arg: '<x>', description: `peak Adam learning rate, warm-up then cosine decay to 10 % (default ${D.lr})` },
    corpus: { type: 'string', arg: '<name|file>', description: `training text, split by document as train-lm splits it: ${CORPUS_NAMES.join(', ')}, or a .txt/.jsonl file (default ${D.corpus}, the default model's)` },
    work: { type: 'string', arg: '<dir>', description: 'checkpoint, token cache and train.log (default .cache/train-sae/<model>-<hook>)' },
    out: { type: 'string', arg: '<dir>', description: 'where cfg.json and sae_weights.safetensors go (default <model folder>/saes/<hook>)' },
    seed: { type: 'string', arg: '<s>', description: `initialisation and activation-sampling seed (default ${D.seed})` },
  },
  async run(values, _positionals, io) {
    const layerFlag = parseInteger(values.layer, '--layer');
    if (layerFlag === undefined) throw new UsageError('--layer is required: give the block whose activations the SAE learns, e.g. --layer 2');
    const site = parseChoice(values.site, '--site', SAE_SITES) ?? D.site;
    const dSaeFlag = intOption(values['d-sae'], '--d-sae', 1, 1 << 20);
    const k = intOption(values.k, '--k', 1, 1 << 20) ?? D.k;
    const steps = intOption(values.steps, '--steps', 1, 10_000_000) ?? D.steps;
    const batch = intOption(values.batch, '--batch', 1, 1 << 20) ?? D.batch;
    const lr = parseNumber(values.lr, '--lr') ?? D.lr;
    if (!(lr > 0)) throw new UsageError(`--lr ${lr} is out of range: give a positive learning rate, e.g. ${D.lr}`);
    const seed = intOption(values.seed, '--seed', 0, 2 ** 31 - 1) ?? D.seed;
    const corpus = checkCorpus(values.corpus ?? D.corpus);
    if (dSaeFlag !== undefined) checkK(k, dSaeFlag);
    if (values.out === '') throw new UsageError('--out is empty: give a folder for the SAE');
    if (values.work === '') throw new UsageError('--work is empty: give a folder for checkpoints');

    const { lm, backend, spec } = await openModel(values, io);
    try {
      const { nLayer, dModel, nPositions } = lm.config;
      const layer = inRange(layerFlag, '--layer', { min: 0, max: nLayer - 1, describe: `this model has layers 0-${nLayer - 1}` });
      const dSae = dSaeFlag ?? D.expansion * dModel;
      checkK(k, dSae);
      const hook = saeHookPoint(layer, site);
      const options = saeTrainingOptions(dModel, { layer, site, dSae, k, steps, batch, lr, seed });
      const outDir = resolve(values.out ?? saeDirFor(lm.source.dir, hook.name));
      const workDir = resolve(values.work ?? join(projectRoot(), '.cache', 'train-sae', `${saeModelName(lm)}-${hook.name}`));
      checkResumable(workDir, options.shape, 'SAE', '--layer/--site/--d-sae/--k');
      io.stderr(`training a TopK SAE (d_sae ${dSae}, k ${k}) on ${hook.name} of ${spec} on ${describeBackend(backend)} → ${outDir} (log ${join(workDir, 'train.log')})\n`);
      let r;
      try {
        r = await runTrainSae({
          lm,
          modelSpec: spec,
          corpus,
          options,
          hook,
          context: Math.min(nPositions, MAX_CONTEXT),
          evalTokens: D.evalTokens,
          spliceTokens: D.spliceTokens,
          workDir,
          outDir,
          command: `textdream train-sae ${process.argv.slice(3).join(' ')}`.trim(),
          log: (l) => io.stderr(l + '\n'),
        });
      } catch (e) {
        if (e instanceof CorpusPackageMissingError || e instanceof SaeDataError) throw new UsageError(e.message);
        throw e;
      }
      if (values.json) printJSON(io, { ...r, steps, hook: hook.name, out: r.completed ? outDir : null, work: workDir });
      else if (r.completed) {
        const h = r.heldOut!;
        const l = r.loss!;
        io.stdout(
          `trained ${r.step} steps on ${hook.name}: held-out variance explained ${fmt(h.fve, 3)}, L0 ${fmt(h.l0, 1)}, ` +
            `${(100 * h.deadFraction).toFixed(1)} % of latents never fired; next-token loss ${fmt(l.clean, 3)} clean, ${fmt(l.spliced, 3)} with the SAE, ` +
            `${fmt(l.zeroAblated, 3)} zero-ablated (${(100 * l.recovered).toFixed(1)} % recovered); written to ${outDir}\n`,
        );
      }
      if (!r.completed) {
        io.stderr(`stopped early at step ${r.step}/${steps}; to resume, run the same command again\n`);
        return 3;
      }
      return 0;
    } finally {
      lm.model.dispose();
    }
  },
});

function checkK(k: number, dSae: number): void {
  if (k > dSae) throw new UsageError(`--k ${k} exceeds --d-sae ${dSae}: a TopK SAE keeps k of its d_sae latents per token; lower --k or raise --d-sae`);
}
