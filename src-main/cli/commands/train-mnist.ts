// `textdream train-mnist`: train the MNIST classifier, the independent judge and the convolutional autoencoder
// on the `mnist` package's digits (a fixed 85/15 split) and write them with a model card.
import { resolve } from 'node:path';
import { MnistDataMissingError } from '../../mnist/data.js';
import { defaultMnistDir } from '../../mnist/models.js';
import { NET_NAMES, type NetName } from '../../mnist/nets.js';
import { DEFAULT_TRAIN_MNIST, runTrainMnist, type NetTraining, type TrainMnistEvent } from '../../mnist/trainJob.js';
import { inRange, parseInteger } from '../args.js';
import { defineCommand, printJSON, UsageError, type CommandIO } from '../command.js';
import { startBackend } from '../model.js';
import { formatDuration, interruptible, parseNumber } from '../progress.js';

const D = DEFAULT_TRAIN_MNIST;

function printEvent(io: CommandIO, e: TrainMnistEvent): void {
  if (e.type === 'data') io.stderr(`data: ${e.train} training digits, ${e.heldOut} held out (split seed ${e.splitSeed})\n`);
  else if (e.type === 'epoch') {
    const metric = e.net === 'autoencoder' ? `held-out MSE ${e.heldOut.toFixed(4)}` : `held-out accuracy ${(100 * e.heldOut).toFixed(2)} %`;
    io.stderr(`${e.net} epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)}  ${metric}  ${formatDuration(e.elapsedMs)}\n`);
  } else if (e.type === 'saved') io.stderr(`saved ${e.file} (${(e.bytes / 1024).toFixed(0)} KiB)\n`);
  else io.stderr(`wrote ${e.file}\n`);
}

export default defineCommand({
  name: 'train-mnist',
  summary: 'train the MNIST classifier, an independent judge and a convolutional autoencoder (for `textdream mnist`)',
  usage: '[--out <dir>] [--only <net,...>] [--epochs <n>] [--seed <s>]',
  options: {
    out: { type: 'string', arg: '<dir>', description: 'where the weights and MODEL_CARD.md go (default resources/mnist in the project)' },
    only: { type: 'string', arg: `<${NET_NAMES.join(',')}>`, description: 'train only these networks (no model card is written then)' },
    epochs: { type: 'string', arg: '<n>', description: `epochs for every network trained (default ${NET_NAMES.map((n) => `${n} ${D[n].epochs}`).join(', ')})` },
    lr: { type: 'string', arg: '<x>', description: `peak learning rate for every network trained (default ${D.classifier.lr})` },
    seed: { type: 'string', arg: '<s>', description: 'add this to every default seed (initial weights, batch order), for a second, independent run (default 0)' },
  },
  async run(values, _positionals, io) {
    let nets: NetName[] = [...NET_NAMES];
    if (values.only !== undefined) {
      nets = values.only.split(',').map((s) => s.trim()) as NetName[];
      const bad = nets.find((n) => !(NET_NAMES as readonly string[]).includes(n));
      if (bad !== undefined || !nets.length) throw new UsageError(`--only takes a comma list of ${NET_NAMES.join(', ')}; got "${values.only}"`);
    }
    const epochs = parseInteger(values.epochs, '--epochs');
    if (epochs !== undefined) inRange(epochs, '--epochs', { min: 1, max: 1000 });
    const shiftSeed = parseInteger(values.seed, '--seed');
    if (shiftSeed !== undefined) inRange(shiftSeed, '--seed', { min: 0, max: 2 ** 30 });
    const lr = parseNumber(values.lr, '--lr', { min: 0 });
    const recipe: Partial<Record<NetName, Partial<NetTraining>>> = {};
    for (const n of NET_NAMES) {
      recipe[n] = {
        ...(epochs !== undefined ? { epochs } : {}),
        ...(lr !== undefined ? { lr } : {}),
        ...(shiftSeed ? { initSeed: D[n].initSeed + shiftSeed, seed: D[n].seed + shiftSeed } : {}),
      };
    }
    const outDir = resolve(values.out ?? defaultMnistDir());
    const backend = await startBackend(values.backend, io);
    const given = (['out', 'only', 'epochs', 'lr', 'seed', 'backend'] as const).filter((k) => values[k] !== undefined);
    const command = ['textdream train-mnist', ...given.map((k) => `--${k} ${values[k]}`)].join(' ');
    const interrupt = interruptible(io, 'training');
    try {
      const result = await runTrainMnist({ outDir, nets, recipe, command, log: (e) => printEvent(io, e), signal: interrupt.signal }).catch((e) => {
        throw e instanceof MnistDataMissingError ? new UsageError(e.message) : e;
      });
      if (!result) {
        io.stderr('stopped: the network in training was not saved\n');
        return 3;
      }
      if (values.json) printJSON(io, result);
      else {
        for (const s of result.nets) {
          const m = s.net === 'autoencoder' ? `held-out reconstruction MSE ${s.heldOut.toFixed(4)}` : `held-out accuracy ${(100 * s.heldOut).toFixed(2)} %`;
          io.stdout(`${s.net.padEnd(11)}  ${m}  (${formatDuration(s.trainMs)})  ${s.file}\n`);
        }
        io.stdout(`total ${formatDuration(result.totalMs)} on ${backend.name}\n`);
      }
      return 0;
    } finally {
      interrupt.release();
    }
  },
});
