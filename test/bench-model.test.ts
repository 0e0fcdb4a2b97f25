// Keeps the forward-backward bench honest: its naive reference and our runtime must compute the same loss and
// the same gradient w.r.t. the input embeddings on the same random weights, and the builder must be seeded.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import type { GPT2 } from '../src-main/model/gpt2.js';
import { lossAndGrad, maxAbs, maxAbsDiff, naiveLoss, nextTokenTargets, textdreamLoss, DreamStepper, type Targets } from '../bench/lib/dreamStep.js';
import { NaiveGPT2 } from '../bench/lib/naiveGpt2.js';
import { buildGPT2, configFor, embedRows, randomCheckpoint, randomIds, type ModelShape } from '../bench/lib/randomModel.js';

const SMALL: ModelShape = { nLayer: 2, dModel: 64, nHead: 4, dMlp: 256, vocabSize: 1000, nPositions: 64 };
const B = 2;
const T = 8;
const spec = { layer: 1, neuron: 7, lambda: 0.5 };

describe('random checkpoint builder', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = randomCheckpoint(SMALL, { seed: 7 });
    const b = randomCheckpoint(SMALL, { seed: 7 });
    const c = randomCheckpoint(SMALL, { seed: 8 });
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [k, t] of a) expect(Buffer.from(t.data.buffer).equals(Buffer.from(b.get(k)!.data.buffer)), k).toBe(true);
    expect(maxAbsDiff(a.get('h.0.mlp.c_fc.weight')!.data, c.get('h.0.mlp.c_fc.weight')!.data)).toBeGreaterThan(0.01);
    expect(randomIds(2, 5, 1000, 3)).toEqual(randomIds(2, 5, 1000, 3));
  });

  it('has the requested statistics and checkpoint shapes', () => {
    const raw = randomCheckpoint(SMALL, { seed: 1, std: 0.02 });
    const w = raw.get('wte.weight')!;
    expect(w.shape).toEqual([1000, 64]);
    const mean = w.data.reduce((s, x) => s + x, 0) / w.data.length;
    const sd = Math.sqrt(w.data.reduce((s, x) => s + (x - mean) ** 2, 0) / w.data.length);
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    expect(Math.abs(sd - 0.02)).toBeLessThan(1e-3);
    expect(raw.get('h.1.attn.c_attn.weight')!.shape).toEqual([64, 192]);
    const gain = raw.get('ln_f.weight')!.data;
    expect(Math.abs(gain.reduce((s, x) => s + x, 0) / gain.length - 1)).toBeLessThan(0.02);
  });
});

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`naive reference vs textdream on ${backend}`, () => {
    let ours: GPT2;
    let naive: NaiveGPT2;
    let tg: Targets;
    let init: tf.Tensor3D;
    beforeAll(async () => {
      expect((await initBackend(backend)).name).toBe(backend);
      // A larger init than GPT-2's 0.02 so activations, logits and gradients are far from zero at this width.
      const raw = randomCheckpoint(SMALL, { seed: 11, std: 0.1 });
      ours = buildGPT2(SMALL, raw, { vocabChunk: 300 }); // several chunks, the last one ragged
      naive = new NaiveGPT2(configFor(SMALL), raw);
      const ids = randomIds(B, T, SMALL.vocabSize, 5);
      tg = nextTokenTargets(ids, B, T);
      init = embedRows(raw, ids, B, T);
    });
    afterAll(() => {
      ours?.dispose();
      naive?.dispose();
      tf.dispose([tg?.targets, tg?.weights, init].filter(Boolean) as tf.Tensor[]);
    });

    it('gives the same loss and embedding gradient (max abs diff < 1e-4)', () => {
      const a = lossAndGrad(textdreamLoss(ours, tg, spec), init);
      const b = lossAndGrad(naiveLoss(naive, tg, spec), init);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-4);
      expect(maxAbsDiff(a.grad, b.grad)).toBeLessThan(1e-4);
      // The comparison means something only if the gradient is not ~0.
      expect(maxAbs(a.grad)).toBeGreaterThan(1e-2);
    });

    it('takes Adam steps that lower the loss without leaking tensors', () => {
      const stepper = new DreamStepper(textdreamLoss(ours, tg, spec), init, 0.05);
      const first = stepper.step(true);
      expect(first.grad!.length).toBe(B * T * SMALL.dModel);
      stepper.step();
      const before = tf.memory().numTensors;
      let last = first.loss;
      for (let i = 0; i < 3; i++) last = stepper.step().loss;
      expect(tf.memory().numTensors).toBe(before);
      expect(last).toBeLessThan(first.loss);
      stepper.dispose();
    });
  });
}
