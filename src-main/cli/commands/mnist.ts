// `textdream mnist`: dream an MNIST digit for a class logit or a hidden unit of the classifier, from raw pixels or
// from the autoencoder's latent; write it as a PNG and print what the classifier and the independent judge see.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEFAULT_MNIST_DREAM, mnistDreamConfig, MnistDreamConfigError, SPACES, type MnistDreamConfig, type MnistTarget } from '../../mnist/config.js';
import { argmax, mnistDream, type MnistDreamResult, type MnistStepRecord } from '../../mnist/dream.js';
import { defaultMnistDir, disposeMnistModels, loadMnistModels } from '../../mnist/models.js';
import { LAYERS, type LayerName } from '../../mnist/nets.js';
import { MnistObjectiveError } from '../../mnist/objectives.js';
import { imagePng } from '../../mnist/png.js';
import { intOption } from '../args.js';
import { defineCommand, printJSON, UsageError } from '../command.js';
import { startBackend } from '../model.js';
import { fmt, formatDuration, interruptible, parseChoice, parseNumber } from '../progress.js';

const D = DEFAULT_MNIST_DREAM;

/** `--unit conv2:5` → { layer: 'conv2', index: 5 } (syntax and layer name only; the width is checked on load). */
export function parseUnit(value: string): MnistTarget {
  const m = /^([a-z0-9]+):(\d+)$/.exec(value.trim());
  if (!m || !(LAYERS as readonly string[]).includes(m[1])) throw new UsageError(`--unit must be <layer>:<index> with layer one of ${LAYERS.join(', ')} (e.g. --unit fc1:7); got "${value}"`);
  return { kind: 'unit', layer: m[1] as LayerName, index: Number(m[2]) };
}

const pct = (p: number) => `${(100 * p).toFixed(1)}%`.padStart(7);

function probsTable(r: MnistStepRecord): string {
  const head = '  class       ' + Array.from({ length: 10 }, (_, i) => String(i).padStart(7)).join('');
  const line = (name: string, ps: number[]) => `  ${name.padEnd(12)}${ps.map(pct).join('')}   → ${argmax(ps)}`;
  return [head, line('classifier', r.probs), line('judge', r.judgeProbs)].join('\n');
}

function summaryText(res: MnistDreamResult, png: string | null): string {
  const c = res.config;
  const f = res.final;
  const reg = [c.l2 ? `l2 ${c.l2}` : '', c.tv ? `tv ${c.tv}` : '', c.jitter ? `jitter ${c.jitter}` : ''].filter(Boolean).join(', ') || 'none';
  const out = [
    `mnist dream: ${res.target} · space ${c.space} · ${res.stopped === 'aborted' ? `stopped at step ${res.steps}/${c.steps}` : `${res.steps} steps`} · lr ${c.lr} · seed ${c.seed} · regularisers ${reg} · ${formatDuration(res.elapsedMs)}`,
    `objective ${fmt(res.initial.objective, 3)} → ${fmt(f.objective, 3)} · reconstruction error (realism proxy, lower is more digit-like) ${fmt(f.reconError, 4)}`,
    probsTable(f),
  ];
  if (c.target.kind === 'class') {
    const t = c.target.class;
    out.push(`target ${t}: classifier ${pct(f.probs[t]).trim()}, judge ${pct(f.judgeProbs[t]).trim()}`);
  }
  if (png) out.push(`wrote ${png}`);
  return out.join('\n') + '\n';
}

export default defineCommand({
  name: 'mnist',
  summary: 'dream an MNIST digit for a class or hidden unit, from raw pixels or the autoencoder latent, and judge it',
  usage: '(--class <0-9> | --unit <layer:index>) [--space raw|latent] [--png <file>] [--steps <n>] [--seed <s>] [--l2 <w>] [--tv <w>] [--jitter <px>]',
  options: {
    class: { type: 'string', arg: '<0-9>', description: 'maximise this class logit of the classifier' },
    unit: { type: 'string', arg: '<layer:index>', description: `maximise a hidden unit instead; layer one of ${LAYERS.join(', ')} (conv: a channel's mean)` },
    space: { type: 'string', arg: `<${SPACES.join('|')}>`, description: `raw: 784 pixel logits → sigmoid; latent: 16 autoencoder codes → decoder (default ${D.space})` },
    png: { type: 'string', arg: '<file>', description: 'write the dream there as a PNG (grayscale, ×8)' },
    steps: { type: 'string', arg: '<n>', description: `optimisation steps (default ${D.steps})` },
    seed: { type: 'string', arg: '<s>', description: `starting point and jitter; the same seed gives the same dream (default ${D.seed})` },
    lr: { type: 'string', arg: '<x>', description: `Adam learning rate (default ${D.lr})` },
    l2: { type: 'string', arg: '<w>', description: `weight of the mean squared pixel intensity (default ${D.l2})` },
    tv: { type: 'string', arg: '<w>', description: `weight of the total variation (default ${D.tv})` },
    jitter: { type: 'string', arg: '<px>', description: `shift the image randomly by up to this many pixels each step (default ${D.jitter})` },
    every: { type: 'string', arg: '<n>', description: `report progress every n steps (default ${D.every})` },
    weights: { type: 'string', arg: '<dir>', description: 'folder with classifier/judge/autoencoder.safetensors (default resources/mnist)' },
  },
  async run(values, _positionals, io) {
    if ((values.class === undefined) === (values.unit === undefined)) throw new UsageError('give exactly one of --class <0-9> or --unit <layer:index> (e.g. --class 3)');
    const target: MnistTarget = values.class !== undefined ? { kind: 'class', class: intOption(values.class, '--class', 0, 9)! } : parseUnit(values.unit!);
    let cfg: MnistDreamConfig;
    try {
      cfg = mnistDreamConfig({
        target,
        space: parseChoice(values.space, '--space', SPACES),
        steps: intOption(values.steps, '--steps', 1, 100_000),
        seed: intOption(values.seed, '--seed', 0, 2 ** 31 - 1),
        lr: parseNumber(values.lr, '--lr', { min: 0 }),
        l2: parseNumber(values.l2, '--l2', { min: 0 }),
        tv: parseNumber(values.tv, '--tv', { min: 0 }),
        jitter: intOption(values.jitter, '--jitter', 0, 8),
        every: intOption(values.every, '--every', 1, 100_000),
      });
    } catch (e) {
      if (e instanceof MnistDreamConfigError) throw new UsageError(e.message);
      throw e;
    }
    await startBackend(values.backend, io);
    const models = await loadMnistModels(values.weights !== undefined ? resolve(values.weights) : defaultMnistDir());
    const interrupt = interruptible(io, 'the dream');
    try {
      let result: MnistDreamResult;
      const gen = mnistDream(models, cfg, interrupt.signal);
      for (;;) {
        let n: IteratorResult<MnistStepRecord, MnistDreamResult>;
        try {
          n = await gen.next();
        } catch (e) {
          if (e instanceof MnistObjectiveError) throw new UsageError(e.message);
          throw e;
        }
        if (n.done) {
          result = n.value;
          break;
        }
        const r = n.value;
        io.stderr(`step ${r.step}/${cfg.steps}  objective ${fmt(r.objective, 3)}  classifier → ${argmax(r.probs)}  judge → ${argmax(r.judgeProbs)}  recon ${fmt(r.reconError, 4)}\n`);
      }
      const png = values.png !== undefined ? resolve(values.png) : null;
      if (png) await writeFile(png, imagePng(result.final.image, 8));
      if (values.json) printJSON(io, { ...result, png });
      else io.stdout(summaryText(result, png));
      if (result.stopped === 'aborted') {
        io.stderr(`stopped early at step ${result.steps}/${cfg.steps}\n`);
        return 3;
      }
      return 0;
    } finally {
      interrupt.release();
      disposeMnistModels(models);
    }
  },
});
