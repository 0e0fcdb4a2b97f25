// Raw-pixel against autoencoder-latent dreams, for all 10 classes at equal steps: the independent judge's
// probability of the target class and the autoencoder's reconstruction error (realism proxy), plus a second proxy
// that does not favour the decoder's own outputs: the mean squared distance to the nearest training digit.
// stdout: one JSON object; progress on stderr; a 2×10 PNG grid (raw row, latent row) at docs/mnist-grid.png.
//   npx tsx bench/mnist.ts [--steps 150] [--seed 0] [--l2 0] [--tv 0] [--jitter 0] [--grid docs/mnist-grid.png] [--backend wasm]
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import { DEFAULT_MNIST_DREAM, mnistDreamConfig, SPACES, type Space } from '../src-main/mnist/config.js';
import { loadSplit, PIXELS, type Digits } from '../src-main/mnist/data.js';
import { argmax, mnistDreamToEnd } from '../src-main/mnist/dream.js';
import { defaultMnistDir, disposeMnistModels, loadMnistModels } from '../src-main/mnist/models.js';
import { projectRoot } from '../src-main/model/load.js';
import { gridPng } from '../src-main/mnist/png.js';
import { accuracy, meanReconstructionError } from '../src-main/mnist/train.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string' },
    seed: { type: 'string' },
    l2: { type: 'string' },
    tv: { type: 'string' },
    jitter: { type: 'string' },
    grid: { type: 'string' },
    weights: { type: 'string' },
    backend: { type: 'string' },
  },
});
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const D = DEFAULT_MNIST_DREAM;
const backend = await initBackend(values.backend ?? 'wasm');
const models = await loadMnistModels(values.weights ? resolve(values.weights) : defaultMnistDir());
const grid = resolve(values.grid ?? `${projectRoot()}/docs/mnist-grid.png`);
const split = await loadSplit();

/** Mean squared pixel distance from `img` to the closest digit of `d`. */
function nearestDistance(img: ArrayLike<number>, d: Digits): number {
  let best = Infinity;
  for (let i = 0; i < d.count; i++) {
    let s = 0;
    const o = i * PIXELS;
    for (let k = 0; k < PIXELS && s < best; k++) s += (img[k] - d.images[o + k]) ** 2;
    if (s < best) best = s;
  }
  return best / PIXELS;
}

interface Row {
  class: number;
  space: Space;
  judgeP: number;
  judgeSays: number;
  classifierP: number;
  classifierSays: number;
  reconError: number;
  nearestTrainMSE: number;
  objective: number;
  ms: number;
}
const rows: Row[] = [];
const images: Record<Space, number[][]> = { raw: [], latent: [] };
const t0 = Date.now();
for (const space of SPACES) {
  for (let c = 0; c < 10; c++) {
    const cfg = mnistDreamConfig({
      target: { kind: 'class', class: c },
      space,
      steps: num(values.steps, D.steps),
      seed: num(values.seed, D.seed),
      l2: num(values.l2, D.l2),
      tv: num(values.tv, D.tv),
      jitter: num(values.jitter, D.jitter),
    });
    const r = await mnistDreamToEnd(models, cfg);
    const f = r.final;
    rows.push({ class: c, space, judgeP: f.judgeProbs[c], judgeSays: argmax(f.judgeProbs), classifierP: f.probs[c], classifierSays: argmax(f.probs), reconError: f.reconError, nearestTrainMSE: nearestDistance(f.image, split.train), objective: f.objective, ms: r.elapsedMs });
    images[space].push(f.image);
    process.stderr.write(`${space} ${c}: judge P=${f.judgeProbs[c].toFixed(3)} (says ${argmax(f.judgeProbs)}), classifier P=${f.probs[c].toFixed(3)}, recon ${f.reconError.toFixed(4)}\n`);
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const summary = Object.fromEntries(
  SPACES.map((s) => {
    const rs = rows.filter((r) => r.space === s);
    return [
      s,
      {
        meanJudgeP: mean(rs.map((r) => r.judgeP)),
        judgedAsTarget: rs.filter((r) => r.judgeSays === r.class).length,
        meanClassifierP: mean(rs.map((r) => r.classifierP)),
        classifiedAsTarget: rs.filter((r) => r.classifierSays === r.class).length,
        meanReconError: mean(rs.map((r) => r.reconError)),
        meanNearestTrainMSE: mean(rs.map((r) => r.nearestTrainMSE)),
        msPerDream: mean(rs.map((r) => r.ms)),
      },
    ];
  }),
);
// Reference points: the same measures on real held-out digits (nearest-digit distance on the first 200).
const firstHeldOut = Array.from({ length: 200 }, (_, i) => split.heldOut.images.subarray(i * PIXELS, (i + 1) * PIXELS));
const reference = {
  heldOutReconError: meanReconstructionError(models.autoencoder, split.heldOut),
  heldOutNearestTrainMSE: mean(firstHeldOut.map((img) => nearestDistance(img, split.train))),
  classifierHeldOutAccuracy: accuracy(models.classifier, split.heldOut),
  judgeHeldOutAccuracy: accuracy(models.judge, split.heldOut),
};

await mkdir(dirname(grid), { recursive: true });
await writeFile(grid, gridPng([images.raw, images.latent], 4, 4));
disposeMnistModels(models);
const cfg = { steps: num(values.steps, D.steps), seed: num(values.seed, D.seed), lr: D.lr, l2: num(values.l2, D.l2), tv: num(values.tv, D.tv), jitter: num(values.jitter, D.jitter) };
console.log(JSON.stringify({ bench: 'mnist', backend: backend.name, config: cfg, summary, reference, grid, gridLayout: 'row 1 raw, row 2 latent; columns classes 0-9; ×4', rows, totalMs: Date.now() - t0 }, null, 2));
