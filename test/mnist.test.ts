// MNIST dreams on the shipped weights (wasm): objectives move the right way, the same seed gives the same dream,
// abort stops early, memory stays flat, and latent dreams convince the independent judge more often than raw ones.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { mnistDreamConfig, MnistDreamConfigError, type MnistDreamConfig, type MnistTarget } from '../src-main/mnist/config.js';
import { argmax, mnistDream, mnistDreamToEnd, type MnistDreamResult, type MnistModels, type MnistStepRecord } from '../src-main/mnist/dream.js';
import { disposeMnistModels, loadMnistModels } from '../src-main/mnist/models.js';
import { classLogit, MnistObjectiveError, sum, targetObjective, unit } from '../src-main/mnist/objectives.js';

let models: MnistModels;
beforeAll(async () => {
  expect((await initBackend('wasm')).name).toBe('wasm');
  models = await loadMnistModels();
});
afterAll(() => models && disposeMnistModels(models));

const cls = (c: number): MnistTarget => ({ kind: 'class', class: c });

async function collect(cfg: MnistDreamConfig, signal?: AbortSignal): Promise<{ records: MnistStepRecord[]; result: MnistDreamResult }> {
  const records: MnistStepRecord[] = [];
  const it = mnistDream(models, cfg, signal);
  for (;;) {
    const n = await it.next();
    if (n.done) return { records, result: n.value };
    records.push(n.value);
  }
}

describe('objectives', () => {
  it('describe themselves and compose', () => {
    expect(classLogit(3).description).toBe('logit of class 3');
    expect(unit('conv2', 5).description).toBe('conv2 unit 5 (pre-ReLU, channel mean)');
    const o = sum([[1, classLogit(3)], [-0.5, classLogit(8)]]);
    expect(o.description).toBe('logit of class 3 - 0.5·logit of class 8');
    expect(o.layer).toBe('logits');
    expect(sum([[1, unit('conv1', 0)], [2, unit('fc1', 1)]]).layer).toBe('fc1');
    expect(() => targetObjective({ kind: 'unit', layer: 'fc1', index: 64 }, models.classifier)).toThrow(MnistObjectiveError);
    expect(() => mnistDreamConfig({ target: cls(10) })).toThrow(MnistDreamConfigError);
    expect(() => mnistDreamConfig({ target: cls(1), space: 'pixels' as never })).toThrow(/--space/);
  });

  const cases: [string, MnistTarget, MnistDreamConfig['space']][] = [
    ['class 3 from raw pixels', cls(3), 'raw'],
    ['class 3 from the latent', cls(3), 'latent'],
    ['conv1 unit 2 (raw)', { kind: 'unit', layer: 'conv1', index: 2 }, 'raw'],
    ['conv2 unit 7 (latent)', { kind: 'unit', layer: 'conv2', index: 7 }, 'latent'],
    ['fc1 unit 5 (raw, all regularisers)', { kind: 'unit', layer: 'fc1', index: 5 }, 'raw'],
  ];
  for (const [name, target, space] of cases) {
    it(`${name}: a few steps raise the objective`, async () => {
      const reg = name.includes('regularisers') ? { l2: 1, tv: 1, jitter: 1 } : {};
      const { records, result } = await collect(mnistDreamConfig({ target, space, steps: 15, every: 5, ...reg }));
      expect(records.map((r) => r.step)).toEqual([0, 5, 10, 15]);
      expect(result.final.objective).toBeGreaterThan(result.initial.objective);
      const f = result.final;
      expect(f.image).toHaveLength(784);
      expect(Math.min(...f.image)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...f.image)).toBeLessThanOrEqual(1);
      for (const p of [f.probs, f.judgeProbs]) {
        expect(p).toHaveLength(10);
        expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      }
      expect(Number.isFinite(f.loss) && Number.isFinite(f.reconError)).toBe(true);
    });
  }
});

describe('the dreaming loop', () => {
  it('is deterministic for a seed, and another seed gives another dream', async () => {
    for (const space of ['raw', 'latent'] as const) {
      const cfg = mnistDreamConfig({ target: cls(5), space, steps: 12, seed: 7, jitter: 1, tv: 0.5 });
      const a = await mnistDreamToEnd(models, cfg);
      const b = await mnistDreamToEnd(models, cfg);
      expect(b.final.image).toEqual(a.final.image);
      expect(b.final.judgeProbs).toEqual(a.final.judgeProbs);
      const c = await mnistDreamToEnd(models, { ...cfg, seed: 8 });
      expect(c.final.image).not.toEqual(a.final.image);
    }
  });

  it('stops on an AbortSignal and still reports where it got to', async () => {
    const ac = new AbortController();
    const records: MnistStepRecord[] = [];
    const it = mnistDream(models, mnistDreamConfig({ target: cls(2), space: 'latent', steps: 500, every: 3 }), ac.signal);
    let result: MnistDreamResult;
    for (;;) {
      const n = await it.next();
      if (n.done) {
        result = n.value;
        break;
      }
      records.push(n.value);
      if (n.value.step === 6) setImmediate(() => ac.abort()); // abort between steps, off a record boundary
    }
    expect(result.stopped).toBe('aborted');
    expect(result.steps).toBeGreaterThanOrEqual(6);
    expect(result.steps).toBeLessThan(500);
    expect(records.at(-1)!.step).toBe(result.steps);
    expect(result.final).toBe(records.at(-1));
  });

  it('keeps tf.memory() flat over steps (raw and latent)', async () => {
    for (const space of ['raw', 'latent'] as const) {
      const before = tf.memory().numTensors;
      const it = mnistDream(models, mnistDreamConfig({ target: cls(4), space, steps: 40, every: 1, jitter: 2, l2: 0.1, tv: 0.1 }));
      const counts: number[] = [];
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        counts.push(tf.memory().numTensors);
      }
      // Adam's slots appear on the first step; from step 2 on nothing may accumulate.
      expect(new Set(counts.slice(2))).toEqual(new Set([counts[2]]));
      expect(tf.memory().numTensors).toBe(before); // variable, optimizer and slots are released at the end
    }
  });
});

describe('raw pixels against the autoencoder latent', () => {
  // The claim, measured: for every class and two seeds, at the default (equal) steps and no regularisers,
  // how often the independent judge — which no dream ever optimises against — names the target class.
  // Measured with the shipped weights (wasm): raw 17/20 (mean judge P 0.79), latent 20/20 (mean P 0.98). Raw
  // dreams transfer to the judge more than the "noise" story suggests; they still lose clearly, and their
  // autoencoder reconstruction error is ~20× higher. See MODEL_CARD.md and bench/mnist.ts.
  it('latent dreams are judged as their target class more often, and more confidently, than raw dreams', async () => {
    const score = { raw: { hits: 0, p: 0, recon: 0 }, latent: { hits: 0, p: 0, recon: 0 } };
    for (const seed of [0, 1]) {
      for (let c = 0; c < 10; c++) {
        for (const space of ['raw', 'latent'] as const) {
          const { final } = await mnistDreamToEnd(models, mnistDreamConfig({ target: cls(c), space, seed }));
          expect(argmax(final.probs)).toBe(c); // both fool the classifier they optimise
          score[space].hits += argmax(final.judgeProbs) === c ? 1 : 0;
          score[space].p += final.judgeProbs[c] / 20;
          score[space].recon += final.reconError / 20;
        }
      }
    }
    console.log(JSON.stringify(score));
    expect(score.latent.hits).toBeGreaterThan(score.raw.hits);
    expect(score.latent.p).toBeGreaterThan(score.raw.p + 0.1);
    expect(score.latent.recon).toBeLessThan(score.raw.recon / 5);
  }, 600_000);
});
