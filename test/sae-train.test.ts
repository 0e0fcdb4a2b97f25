// Training TopK sparse autoencoders (`textdream train-sae`): the hand-written gradients against autodiff of the same
// loss with the top-k selection held fixed and against finite differences; recovery of known sparse directions from
// synthetic data; the geometric median; the SAELens folder read back by loadSae (encode/decode equal to the
// trainer's own); the spliced next-token loss against the model's own loss; stop-and-resume equal to an
// uninterrupted run; the command end to end on the fixture model; memory; and the command's refusals.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { loadCorpus } from '../src-main/corpus/documents.js';
import { rng } from '../src-main/corpus/rng.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { readSafetensorsFile } from '../src-main/model/safetensors.js';
import { HookActivationSource, learnedPositions, saeHookPoint, type ActivationSource, type SaeSiteName } from '../src-main/sae/activations.js';
import { heldOutSet, reconstructionMetrics, splicedLoss, type SaeReconstruct } from '../src-main/sae/evaluate.js';
import { geometricMedian } from '../src-main/sae/geometricMedian.js';
import { runTrainSae, saeTrainingOptions, type TrainSaeJob } from '../src-main/sae/job.js';
import { loadSae } from '../src-main/sae/load.js';
import { topkStep, type TopKParams } from '../src-main/sae/topk.js';
import { SaeTrainer, type TrainSaeOptions } from '../src-main/sae/train.js';
import { topkSaeConfig, writeTopKSae, type TopKSaeDescription } from '../src-main/sae/write.js';
import { runCli } from './helpers/cli.js';
import { FIXTURE, maxAbsDiff } from './helpers/shared.js';

let tmp: string;
let lm: LoadedModel;
/** A small .txt corpus of real English (the first paragraphs of a few Brown texts), one document per text. */
let corpusFile: string;

beforeAll(async () => {
  expect((await initBackend('wasm')).name).toBe('wasm');
  tmp = await mkdtemp(join(tmpdir(), 'textdream-sae-train-'));
  lm = await loadModel(FIXTURE);
  const docs = (await loadCorpus('brown')).slice(0, 12).map((d) => d.text.slice(0, 700).replace(/\s+\S*$/, ''));
  corpusFile = join(tmp, 'corpus.txt');
  await writeFile(corpusFile, docs.join('\n\n\n'));
});
afterAll(async () => {
  lm?.model.dispose();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

// ---- synthetic data: tokens that are sparse non-negative combinations of known unit directions, plus an offset ----

const gaussian = (r: () => number) => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());

function unitDirections(n: number, d: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: d }, () => gaussian(r));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

interface Synthetic extends ActivationSource {
  dirs: number[][];
  rows(seed: number, n: number): Float32Array;
}

/** Each token: an offset plus `active` distinct directions with coefficients uniform in [1, 3). */
function synthetic(d: number, nDirs: number, active: number, batch: number): Synthetic {
  const dirs = unitDirections(nDirs, d, 7);
  const r0 = rng(8);
  const offset = Array.from({ length: d }, () => gaussian(r0));
  const rows = (seed: number, n: number) => {
    const r = rng(seed);
    const out = new Float32Array(n * d);
    for (let t = 0; t < n; t++) {
      const chosen = new Set<number>();
      while (chosen.size < active) chosen.add(Math.floor(r() * nDirs));
      for (let i = 0; i < d; i++) out[t * d + i] = offset[i];
      for (const j of chosen) {
        const c = 1 + 2 * r();
        for (let i = 0; i < d; i++) out[t * d + i] += c * dirs[j][i];
      }
    }
    return out;
  };
  return { dIn: d, dirs, rows, batch: async (step) => rows(1000 + step, batch), sample: async (n) => rows(99, n) };
}

function syntheticOptions(over: Partial<TrainSaeOptions> & { shape: TrainSaeOptions['shape'] }): TrainSaeOptions {
  return {
    batch: 256,
    steps: 400,
    lr: 3e-3,
    warmupSteps: 20,
    minLrFraction: 0.1,
    seed: 1,
    bufferBatches: 1,
    deadWindow: 2000,
    auxKCoefficient: 1 / 32,
    auxK: 16,
    bDecInit: 'geometric_median',
    initSample: 1024,
    evalEvery: 1_000_000,
    checkpointEvery: 1_000_000,
    logEvery: 1_000_000,
    ...over,
  };
}

/** Values of a 2-D tensor-producing function, disposed. */
function values(fn: () => tf.Tensor): Float32Array {
  const t = fn();
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(v);
}

describe('the training step', () => {
  const d = 6;
  const S = 10;
  const B = 5;
  const r = rng(3);
  const rand = (n: number, scale: number) => Array.from({ length: n }, () => scale * (2 * r() - 1));
  const init = { W_enc: rand(d * S, 0.8), b_enc: rand(S, 0.3), W_dec: rand(S * d, 0.8), b_dec: rand(d, 0.3) };
  const xData = rand(B * d, 2);

  function variables(): Record<keyof TopKParams, tf.Variable> {
    return {
      W_enc: tf.variable(tf.tensor2d(init.W_enc, [d, S])),
      b_enc: tf.variable(tf.tensor1d(init.b_enc)),
      W_dec: tf.variable(tf.tensor2d(init.W_dec, [S, d])),
      b_dec: tf.variable(tf.tensor1d(init.b_dec)),
    };
  }

  it('has the gradients of autodiff through the same loss with the top-k choice held fixed, with and without AuxK', () => {
    for (const withAux of [false, true]) {
      const v = variables();
      const p = v as unknown as TopKParams;
      const k = 3;
      const dead = [0, 1, 0, 1, 1, 0, 1, 0, 0, 1];
      const coef = 0.5;
      const kAux = 2;
      const x = tf.tensor2d(xData, [B, d]);
      const deadT = tf.tensor1d(dead);
      const step = topkStep(p, x, { k, applyBDecToInput: true }, withAux ? { dead: deadT, numDead: 5, kAux, coefficient: coef } : undefined);

      // The reference: plain tf ops that autodiff can follow, with the selections computed apart from them.
      const pre0 = tf.tidy(() => tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc), p.b_enc).arraySync() as number[][]);
      const topIdx = pre0.map((row) => [...row.keys()].sort((a, b) => row[b] - row[a]).slice(0, k));
      const gate = tf.tensor2d(pre0.map((row, i) => row.map((vv, j) => (topIdx[i].includes(j) && vv > 0 ? 1 : 0))));
      const auxIdx = pre0.map((row) => [...row.keys()].filter((j) => dead[j]).sort((a, b) => row[b] - row[a]).slice(0, kAux));
      const gateA = tf.tensor2d(pre0.map((row, i) => row.map((_, j) => (auxIdx[i].includes(j) ? 1 : 0))));
      const reconConst = tf.tidy(() => tf.add(tf.matMul(tf.mul(gate, tf.tensor2d(pre0)), p.W_dec), p.b_dec));
      const reference = () => {
        const pre = tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc), p.b_enc);
        const recon = tf.add(tf.matMul(tf.mul(gate, pre), p.W_dec), p.b_dec);
        let loss = tf.div(tf.sum(tf.square(tf.sub(recon, x))), B);
        if (withAux) {
          const eHat = tf.matMul(tf.mul(gateA, pre), p.W_dec);
          // Two of five latents dead out of k_aux 2: no down-scaling (5 ≥ 2).
          loss = tf.add(loss, tf.mul(coef, tf.div(tf.sum(tf.square(tf.sub(eHat, tf.sub(x, reconConst)))), B)));
        }
        return loss as tf.Scalar;
      };
      const { value, grads } = tf.variableGrads(reference, Object.values(v));
      const total = step.mse.dataSync()[0] + step.aux.dataSync()[0];
      expect(Math.abs(total - value.dataSync()[0])).toBeLessThan(1e-4 * Math.abs(total));
      if (withAux) expect(step.aux.dataSync()[0]).toBeGreaterThan(0);
      for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
        const want = grads[v[name].name].dataSync();
        const got = step.grads[name].dataSync();
        const scale = Math.max(...Array.from(want, Math.abs));
        expect(maxAbsDiff(got, want), `${name} (aux ${withAux})`).toBeLessThan(1e-5 * scale + 1e-6);
      }
      tf.dispose([value, ...Object.values(grads), step as unknown as tf.TensorContainer, x, deadT, gate, gateA, reconConst, ...Object.values(v)] as tf.Tensor[]);
    }
  });

  it('matches central finite differences of its own loss', () => {
    const v = variables();
    const p = v as unknown as TopKParams;
    const x = tf.tensor2d(xData, [B, d]);
    const lossAt = () => tf.tidy(() => topkStep(p, x, { k: 3, applyBDecToInput: true }).mse.dataSync()[0]);
    const step = topkStep(p, x, { k: 3, applyBDecToInput: true });
    const eps = 1e-2;
    for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
      const g = step.grads[name].dataSync();
      const base = v[name].dataSync().slice();
      // The largest-gradient coordinate and one more.
      const idx = [[...g.keys()].sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]))[0], 1];
      for (const i of idx) {
        const at = (delta: number) => {
          const moved = base.slice();
          moved[i] += delta;
          v[name].assign(tf.tensor(moved, v[name].shape));
          return lossAt();
        };
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        v[name].assign(tf.tensor(base, v[name].shape));
        expect(Math.abs(fd - g[i]), `${name}[${i}] fd ${fd} vs ${g[i]}`).toBeLessThan(2e-2 * Math.abs(fd) + 2e-3);
      }
    }
    tf.dispose([x, ...Object.values(v)]);
    tf.dispose(step as unknown as tf.TensorContainer);
  });

  it('geometric median: the point of least summed distance, not the mean', () => {
    // Collinear points: the geometric median is the middle one, (1, 0); the mean is (11/3, 0).
    const m = values(() => geometricMedian(tf.tensor2d([[0, 0], [1, 0], [10, 0]]), 200));
    expect(Math.abs(m[0] - 1)).toBeLessThan(1e-2);
    expect(Math.abs(m[1])).toBeLessThan(1e-6);
    // Four corners of a square and one far outlier: no closed form, so check optimality itself: the unit vectors
    // from the median to the points sum to zero (the gradient of the summed distance), while the mean is far off.
    const pts = [[1, 1], [-1, 1], [1, -1], [-1, -1], [100, 0]];
    const y = values(() => geometricMedian(tf.tensor2d(pts), 200));
    const pull = [0, 1].map((c) => pts.reduce((a, p) => a + (p[c] - y[c]) / Math.hypot(p[0] - y[0], p[1] - y[1]), 0));
    expect(Math.hypot(...pull)).toBeLessThan(1e-3);
    expect(Math.hypot(y[0], y[1])).toBeLessThan(1);
  });
});

describe('training on synthetic sparse data', () => {
  it('recovers the known directions: held-out variance explained > 0.9, L0 ≤ k, every direction matched by a decoder row', async () => {
    const d = 32;
    const nDirs = 32; // random, so not orthogonal: each token's 3 directions overlap
    const k = 3;
    const S = 64;
    const src = synthetic(d, nDirs, k, 128);
    const tr = new SaeTrainer(syntheticOptions({ shape: { dIn: d, dSae: S, k, hook: 'synthetic', applyBDecToInput: true }, batch: 128, lr: 5e-3 }), join(tmp, 'synthetic-ck'));
    await tr.init(src, () => {});
    await tr.train(src, null, () => {});
    const heldOut = src.rows(5, 1024);
    // Independent reference: variance explained and L0 computed here from the trainer's reconstructions.
    const out = tr.reconstruct(tf.tensor2d(heldOut, [1024, d]));
    const recon = out.recon.dataSync();
    const f = out.f.dataSync();
    tf.dispose([out.f, out.recon]);
    const mean = Array.from({ length: d }, (_, i) => heldOut.reduce((a, v, j) => a + (j % d === i ? v : 0), 0) / 1024);
    let sse = 0;
    let sst = 0;
    heldOut.forEach((v, j) => {
      sse += (v - recon[j]) ** 2;
      sst += (v - mean[j % d]) ** 2;
    });
    let maxL0 = 0;
    let active = 0;
    for (let t = 0; t < 1024; t++) {
      let n = 0;
      for (let j = 0; j < S; j++) if (f[t * S + j] !== 0) n += 1;
      maxL0 = Math.max(maxL0, n);
      active += n;
    }
    expect(1 - sse / sst).toBeGreaterThan(0.9);
    expect(maxL0).toBeLessThanOrEqual(k);
    const m = await tr.evaluate(heldOut);
    expect(Math.abs(m.fve - (1 - sse / sst))).toBeLessThan(1e-4);
    expect(Math.abs(m.l0 - active / 1024)).toBeLessThan(1e-9);
    // Every true direction has a decoder row within ~25° of it.
    const W = (await tr.values()).get('W_dec')!;
    for (const [n, u] of src.dirs.entries()) {
      let best = -1;
      for (let j = 0; j < S; j++) best = Math.max(best, u.reduce((a, ui, i) => a + ui * W[j * d + i], 0));
      expect(best, `direction ${n}`).toBeGreaterThan(0.9);
    }
    // Decoder rows stay unit-norm.
    for (let j = 0; j < S; j++) expect(Math.abs(Math.hypot(...W.subarray(j * d, (j + 1) * d)) - 1)).toBeLessThan(1e-5);
    tr.dispose();
  });

  it('keeps tf.memory().numTensors flat over many steps (AuxK active), evaluation included', async () => {
    const src = synthetic(16, 24, 3, 64);
    const tr = new SaeTrainer(syntheticOptions({ shape: { dIn: 16, dSae: 48, k: 4, hook: 'synthetic', applyBDecToInput: true }, deadWindow: 64, steps: 40 }), join(tmp, 'memory-ck'));
    await tr.init(src, () => {});
    for (let s = 0; s < 3; s++) await tr.trainStep(await src.batch(s));
    const settled = tf.memory().numTensors;
    let aux = 0;
    for (let s = 3; s < 40; s++) aux += (await tr.trainStep(await src.batch(s))).aux;
    expect(aux).toBeGreaterThan(0); // dead latents existed and AuxK ran
    await tr.evaluate(src.rows(3, 100));
    expect(tf.memory().numTensors).toBe(settled);
    tr.dispose();
  });
});

describe('SAELens folder', () => {
  it('loadSae reads what writeTopKSae wrote, and its encode/decode are the trainer\'s to 1e-5', async () => {
    const d = 16;
    const src = synthetic(d, 24, 3, 128);
    const tr = new SaeTrainer(syntheticOptions({ shape: { dIn: d, dSae: 40, k: 5, hook: 'blocks.1.hook_resid_post', applyBDecToInput: true }, steps: 30 }), join(tmp, 'folder-ck'));
    await tr.init(src, () => {});
    await tr.train(src, null, () => {});
    const desc: TopKSaeDescription = { dIn: d, dSae: 40, k: 5, applyBDecToInput: true, hook: saeHookPoint(1, 'resid_post'), modelName: 'synthetic', contextSize: 64, dataset: 'synthetic', textdream: { note: 'test' } };
    const dir = join(tmp, 'folder-sae');
    const w = await tr.values();
    await writeTopKSae(dir, desc, { W_enc: w.get('W_enc')!, b_enc: w.get('b_enc')!, W_dec: w.get('W_dec')!, b_dec: w.get('b_dec')! });
    const sae = await loadSae(dir);
    const { raw, ...parsed } = sae.config;
    const { raw: _raw, ...expected } = topkSaeConfig(desc);
    expect(parsed).toEqual(expected);
    expect(parsed).toMatchObject({ architecture: 'topk', k: 5, dIn: d, dSae: 40, applyBDecToInput: true, normalization: { kind: 'none' }, centreInput: false, hook: { layer: 1, site: 'hook_resid_post', name: 'blocks.1.hook_resid_post' } });
    expect(raw.textdream).toEqual({ note: 'test' });
    const xs = src.rows(11, 64);
    const mine = tr.reconstruct(tf.tensor2d(xs, [64, d]));
    const f = values(() => sae.encode(tf.tensor2d(xs, [64, d])));
    const recon = values(() => sae.decode(tf.tensor2d(f, [64, 40])));
    expect(maxAbsDiff(f, mine.f.dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(recon, mine.recon.dataSync())).toBeLessThan(1e-5);
    expect(f.filter((v) => v !== 0).length).toBeGreaterThan(64 * 3); // real latents, not an all-zero encoding
    tf.dispose([mine.f, mine.recon]);
    sae.dispose();
    tr.dispose();
  });
});

describe('on the fixture model', () => {
  it('the spliced loss: the clean run is the model\'s own loss, an identity splice changes nothing, a zero splice is the zero ablation', async () => {
    const T = 16;
    const stream = Int32Array.from(lm.tokenizer.encode((await readFile(corpusFile, 'utf8')).slice(0, 2000)));
    for (const site of ['resid_pre', 'resid_post', 'mlp_out'] as SaeSiteName[]) {
      const layer = site === 'resid_pre' ? 0 : 1;
      const hook = saeHookPoint(layer, site);
      const set = await heldOutSet(lm.model, stream, hook, T, 96);
      expect(set.windows.reduce((a, w) => a + w.rows, 0)).toBe(6);
      const identity: SaeReconstruct = (x) => ({ f: tf.zeros([x.shape[0], 1]), recon: x.clone() });
      const zero: SaeReconstruct = (x) => ({ f: tf.zeros([x.shape[0], 1]), recon: tf.zerosLike(x) });
      const before = tf.memory().numTensors;
      const same = await splicedLoss(lm.model, set, hook, identity);
      const zeroed = await splicedLoss(lm.model, set, hook, zero);
      expect(tf.memory().numTensors).toBe(before);
      // The model's loss on the same windows, run the ordinary way.
      const w = set.windows[0];
      const own = tf.tidy(() => tf.mean(lm.model.tokenLoss({ ids: tf.tensor2d(w.ids, [w.rows, T], 'int32') }, tf.tensor2d(w.targets, [w.rows, T], 'int32'))).dataSync()[0]);
      expect(same.tokens).toBe(96);
      expect(Math.abs(same.clean - own)).toBeLessThan(1e-4);
      expect(Math.abs(same.spliced - same.clean), site).toBeLessThan(1e-4);
      expect(Math.abs(zeroed.spliced - zeroed.zeroAblated), site).toBeLessThan(1e-4);
      expect(Math.abs(zeroed.zeroAblated - zeroed.clean), site).toBeGreaterThan(0.01); // the ablation does something
      expect(same.recovered).toBeCloseTo(1, 4);
    }
  });

  it('training reads only learned positions (not a window\'s first, not <|endoftext|>) and fills are reproducible', async () => {
    const eos = lm.config.eosTokenId;
    expect(Array.from(learnedPositions(Int32Array.from([5, eos, 7, 8, 9, 10, eos, 3]), 4, eos))).toEqual([0, 0, 1, 1, 0, 1, 0, 1]);
    const stream = Int32Array.from(lm.tokenizer.encode((await readFile(corpusFile, 'utf8')).slice(0, 3000)));
    const o = { hook: saeHookPoint(1, 'resid_pre'), context: 16, batch: 40, bufferBatches: 3, seed: 9 };
    const a = new HookActivationSource(lm.model, stream, o);
    const b = new HookActivationSource(lm.model, stream, o);
    const step4 = Float32Array.from(await a.batch(4));
    await a.batch(0);
    expect(Array.from(await a.batch(4))).toEqual(Array.from(step4)); // fill 1 again, after fill 0
    expect(Array.from(await b.batch(4))).toEqual(Array.from(step4)); // another source, same seed
    expect(step4.length).toBe(40 * 32);
    expect(maxAbsDiff(step4, await a.batch(5))).toBeGreaterThan(0);
  });

  function jobFor(name: string, over: Partial<TrainSaeJob> = {}, signal?: AbortSignal, log?: (s: string) => void): TrainSaeJob {
    const options = saeTrainingOptions(32, { layer: 1, site: 'resid_pre', dSae: 64, k: 4, steps: 8, batch: 32, lr: 3e-3, seed: 4 });
    Object.assign(options, { bufferBatches: 2, deadWindow: 64, initSample: 64, logEvery: 1, evalEvery: 4, checkpointEvery: 50 });
    return {
      lm,
      modelSpec: FIXTURE,
      corpus: corpusFile,
      options,
      hook: saeHookPoint(1, 'resid_pre'),
      context: 16,
      evalTokens: 128,
      spliceTokens: 64,
      workDir: join(tmp, `${name}-work`),
      outDir: join(tmp, `${name}-out`),
      command: 'test',
      signal,
      log,
      ...over,
    };
  }

  it('stopped at step 4 and resumed to 8 gives exactly the SAE of an uninterrupted 8-step run', async () => {
    const whole = await runTrainSae(jobFor('whole'));
    expect(whole).toMatchObject({ completed: true, step: 8 });

    const ctl = new AbortController();
    const stopped = await runTrainSae(jobFor('resumed', {}, ctl.signal, (l) => /step 4\/8/.test(l) && ctl.abort()));
    expect(stopped).toEqual({ completed: false, step: 4 });
    const lines: string[] = [];
    const resumed = await runTrainSae(jobFor('resumed', {}, undefined, (l) => lines.push(l)));
    expect(resumed).toMatchObject({ completed: true, step: 8 });
    expect(lines.some((l) => /resumed from .* at step 4/.test(l))).toBe(true);
    expect(lines.some((l) => /step [1-4]\/8/.test(l))).toBe(false);

    const a = await readSafetensorsFile(join(tmp, 'whole-out', 'sae_weights.safetensors'));
    const b = await readSafetensorsFile(join(tmp, 'resumed-out', 'sae_weights.safetensors'));
    for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec']) expect(maxAbsDiff(a.get(name)!.data, b.get(name)!.data), name).toBeLessThan(1e-6);
    expect(resumed.heldOut!.fve).toBeCloseTo(whole.heldOut!.fve, 5);
    expect(resumed.loss!.spliced).toBeCloseTo(whole.loss!.spliced, 5);
  });

  it('`textdream train-sae` trains, evaluates and writes a folder loadSae reads, with the record in cfg.json', async () => {
    const out = join(tmp, 'cli-out');
    const work = join(tmp, 'cli-work');
    const args = ['train-sae', '--model', FIXTURE, '--backend', 'wasm', '--layer', '1', '--site', 'mlp_out', '--d-sae', '64', '--k', '4', '--steps', '3', '--batch', '32', '--corpus', corpusFile, '--work', work, '--out', out];
    const r = await runCli([...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/step 3\/3 mse \S+ fve \S+ L0 \S+ dead \S+ % aux \S+ lr \S+ \d+ tok\/s/);
    expect(r.stderr).toMatch(/held-out next-token loss \(\d+ tokens\): clean \S+, SAE spliced in \S+, zero-ablated \S+/);
    const j = JSON.parse(r.stdout) as { completed: boolean; step: number; out: string; hook: string; heldOut: { fve: number; l0: number; tokens: number }; loss: { clean: number; spliced: number; zeroAblated: number } };
    expect(j).toMatchObject({ completed: true, step: 3, out, hook: 'blocks.1.hook_mlp_out' });
    expect(j.heldOut.l0).toBeLessThanOrEqual(4);
    expect(j.heldOut.tokens).toBeGreaterThan(0);
    expect(Number.isFinite(j.loss.spliced) && j.loss.clean > 0).toBe(true);

    const sae = await loadSae(out);
    expect(sae.config).toMatchObject({ architecture: 'topk', dIn: 32, dSae: 64, k: 4, hook: { layer: 1, site: 'hook_mlp_out' }, normalization: { kind: 'none' } });
    const td = sae.config.raw.textdream as Record<string, unknown>;
    expect(td).toMatchObject({ steps: 3, trainingTokens: 96, corpus: { spec: corpusFile, trainDocs: 11, heldOutDocs: 1 }, settings: { batch: 32, steps: 3, context: 64 } });
    expect((td.heldOut as { loss: { tokens: number } }).loss.tokens).toBeGreaterThan(0);
    expect(typeof td.command).toBe('string');
    sae.dispose();

    // The same command again finds the finished checkpoint and only re-evaluates and rewrites.
    const again = await runCli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resumed from .* at step 3/);
    expect(again.stdout).toMatch(/^trained 3 steps on blocks\.1\.hook_mlp_out: held-out variance explained/);

    // Another shape in the same work folder is refused before any work.
    const other = await runCli(args.map((a, i) => (args[i - 1] === '--k' ? '8' : a)));
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/error: --work .* holds a checkpoint \(step 3\) of another SAE .*Use another --work/);
  });
});

describe('refusals', () => {
  const base = ['train-sae', '--model', FIXTURE, '--backend', 'wasm'];
  const cases: [string[], RegExp][] = [
    [[], /^error: --layer is required: give the block whose activations the SAE learns, e\.g\. --layer 2\n$/],
    [['--layer', '2'], /^error: --layer 2 is out of range: this model has layers 0-1\n$/],
    [['--layer', '1', '--site', 'attn_out'], /^error: --site must be one of resid_pre, resid_post, mlp_out; got "attn_out"\n$/],
    [['--layer', '1', '--d-sae', '16', '--k', '17'], /^error: --k 17 exceeds --d-sae 16: a TopK SAE keeps k of its d_sae latents per token; lower --k or raise --d-sae\n$/],
    // Without --d-sae the default, 8 × d_model = 256 on the fixture, bounds k once the model is loaded.
    [['--layer', '1', '--k', '300'], /error: --k 300 exceeds --d-sae 256/],
    [['--layer', '1', '--lr', '0'], /^error: --lr 0 is out of range: give a positive learning rate, e\.g\. 0\.003\n$/],
    [['--layer', '1', '--corpus', 'nope'], /^error: --corpus must be one of brown, sotu, brown\+sotu, .* or a \.txt\/\.jsonl file; got "nope"\n$/],
    [['--layer', '1', '--corpus', 'missing.txt'], /^error: --corpus missing\.txt: no such file/],
    [['--layer', 'x'], /^error: --layer must be an integer, got "x"\n$/],
    [['--layer', '1', '--batch', '0'], /^error: --batch 0 is out of range: use 1-1048576\n$/],
  ];
  it.each(cases)('train-sae %j', async (args, message) => {
    const r = await runCli([...base, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:')).join('\n') + '\n').toMatch(message);
  });
});
