// Training path: every parameter's gradient (tied embeddings through both uses, chunked unembedding, custom
// linear gradients, scatter-add embedding gradient) against central finite differences on the cpu backend;
// AdamW and the schedule against closed forms; data windows; a checkpoint round trip resumes exactly.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { rng } from '../src-main/corpus/rng.js';
import { AdamW, lrAt } from '../src-main/train/adamw.js';
import { evalWindows, sampleBatch } from '../src-main/train/lmData.js';
import { LMTrainer, type TrainLMOptions } from '../src-main/train/trainLM.js';
import { namedWeights } from '../src-main/model/weights.js';
import { expectGradientsMatchFD } from './helpers/finiteDifferences.js';

const options = (dir = ''): TrainLMOptions => ({
  shape: { nLayer: 2, dModel: 16, nHead: 2, dMlp: 32, context: 8, vocabSize: 300 },
  batch: 2,
  steps: 10,
  lr: 1e-2,
  warmupSteps: 2,
  minLrFraction: 0.1,
  weightDecay: 0.1,
  clipNorm: 1,
  seed: 3,
  evalEvery: 5,
  evalTokens: 64,
  checkpointEvery: 5,
  logEvery: 5,
  ...(dir ? {} : {}),
});

beforeAll(async () => {
  await initBackend('cpu');
});

describe('training gradients', () => {
  it('match finite differences for every parameter family', async () => {
    const tr = new LMTrainer(options(), join(mkdtempSync(join(tmpdir(), 'td-train-')), 'ck'));
    await tr.init(() => {});
    const model = tr.model;
    model.weights.unembed.chunk = 64; // 300 tokens → 5 chunks, the last one short
    // Scale weights up so that gradients are well above float32 noise.
    const named = namedWeights(model.weights);
    for (const [, v] of named) (v as tf.Variable).assign(tf.mul(v, 4));
    const rand = rng(1);
    const x = Int32Array.from({ length: 16 }, () => Math.floor(rand() * 300));
    const y = Int32Array.from({ length: 16 }, () => Math.floor(rand() * 300));
    // The trainer's own (fused) loss is what gets differentiated in training.
    const loss = () => tf.tidy(() => tr.loss(x, y));
    expectGradientsMatchFD(loss, [...named] as [string, tf.Variable][], { top: 2, rand, eps: 2e-3, tolerance: (fd) => 2e-2 * Math.max(1e-2, Math.abs(fd)) + 2e-3 });
    tr.dispose();
  });
});

describe('optimiser and schedule', () => {
  it('lrAt warms up linearly and decays by cosine to the floor', () => {
    const s = { warmupSteps: 10, totalSteps: 110, minLrFraction: 0.1 };
    expect(lrAt(0, 1, s)).toBeCloseTo(0.1);
    expect(lrAt(9, 1, s)).toBeCloseTo(1);
    expect(lrAt(60, 1, s)).toBeCloseTo(0.1 + 0.9 * 0.5);
    expect(lrAt(110, 1, s)).toBeCloseTo(0.1);
  });
  it('AdamW leaves no tensor behind once disposed', () => {
    const v = tf.variable(tf.tensor1d([1, -2]), true, 'adamw-leak-test');
    const before = tf.memory().numTensors;
    new AdamW([{ name: 'p', v, decay: true }], { lr: 0.1, weightDecay: 0, clipNorm: 1 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });
  it('AdamW takes the closed-form first step with decoupled decay and clipping', () => {
    const v = tf.variable(tf.tensor1d([1, -2]), true, 'adamw-test');
    const opt = new AdamW([{ name: 'p', v, decay: true }], { lr: 0.1, weightDecay: 0.5, clipNorm: 1 });
    const norm = opt.apply({ 'adamw-test': tf.tensor1d([3, 4]) }, 0.1);
    expect(norm).toBeCloseTo(5);
    // First Adam step moves each coordinate by lr·sign(g) (bias-corrected m/√s = g/|g|); decay scales by 1 − lr·wd.
    const [a, b] = v.dataSync();
    expect(a).toBeCloseTo(1 * (1 - 0.05) - 0.1, 5);
    expect(b).toBeCloseTo(-2 * (1 - 0.05) - 0.1, 5);
    opt.dispose();
    v.dispose();
  });
});

describe('data', () => {
  it('windows are next-token pairs, deterministic per (seed, step)', () => {
    const stream = Int32Array.from({ length: 1000 }, (_, i) => i);
    const a = sampleBatch(stream, 4, 16, 7, 3);
    expect(sampleBatch(stream, 4, 16, 7, 3)).toEqual(a);
    expect(sampleBatch(stream, 4, 16, 7, 4).x).not.toEqual(a.x);
    for (let i = 0; i < a.x.length; i++) expect(a.y[i]).toBe(a.x[i] + 1);
    const w = [...evalWindows(stream, 16, 8)];
    expect(w.reduce((n, b) => n + b.rows, 0)).toBe(Math.floor(999 / 16));
    expect(w[0].x[0]).toBe(0);
    expect(w[1].x[0]).toBe(8 * 16);
  });
});

describe('checkpoints', () => {
  it('a run stopped and resumed ends exactly where an uninterrupted run does', async () => {
    const stream = Int32Array.from({ length: 4000 }, (_, i) => (i * 7919) % 300);
    const held = stream.subarray(0, 200);
    const run = async (dir: string, stopAt?: number) => {
      const tr = new LMTrainer(options(), dir);
      await tr.init(() => {});
      const ac = new AbortController();
      if (stopAt) {
        const orig = tr.trainStep.bind(tr);
        tr.trainStep = (x, y) => {
          const r = orig(x, y);
          if (tr.state.step >= stopAt) ac.abort();
          return r;
        };
      }
      await tr.train(stream, held, () => {}, ac.signal);
      const w = namedWeights(tr.model.weights).get('h.1.mlp.c_fc.weight')!.dataSync().slice();
      const step = tr.state.step;
      tr.dispose();
      return { w, step };
    };
    const base = mkdtempSync(join(tmpdir(), 'td-ckpt-'));
    const whole = await run(join(base, 'a'));
    const first = await run(join(base, 'b'), 4);
    expect(first.step).toBe(4);
    const resumed = await run(join(base, 'b'));
    expect(resumed.step).toBe(10);
    expect(Array.from(resumed.w)).toEqual(Array.from(whole.w));
  });
});
