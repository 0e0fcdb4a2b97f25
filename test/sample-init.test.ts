// Model samples as a starting point (`--init samples`): every sampled token lies in the model's own top-p nucleus
// at its position (recomputed from full logits), rows are deterministic for a seed, and a fluent dream started
// from samples begins far more fluent (lower cross-entropy) than one started from random tokens.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { dreamToEnd, runDream } from '../src-main/dream/run.js';
import { sampleSequences } from '../src-main/model/generate.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { FIXTURE } from './helpers/shared.js';

let lm: LoadedModel;
beforeAll(async () => {
  await initBackend('wasm');
  lm = await loadModel(FIXTURE);
});
afterAll(() => lm?.model.dispose());

describe('sampleSequences', () => {
  it('draws each token from the top-p nucleus of the model, never <|endoftext|>, deterministically', async () => {
    const rows = await sampleSequences(lm.model, 3, 6, { topP: 0.5, seed: 4 });
    expect(await sampleSequences(lm.model, 3, 6, { topP: 0.5, seed: 4 })).toEqual(rows);
    expect(await sampleSequences(lm.model, 3, 6, { topP: 0.5, seed: 5 })).not.toEqual(rows);
    for (const r of rows) {
      expect(r).toHaveLength(6);
      const ids = [50256, ...r];
      const logits = tf.tidy(() => lm.model.run({ ids: tf.tensor2d([ids], [1, 7], 'int32') }).logits!.arraySync()[0]);
      r.forEach((id, t) => {
        const row = logits[t].map((v, i) => (i === 50256 ? -Infinity : v));
        const m = Math.max(...row);
        const p = row.map((v) => Math.exp(v - m));
        const z = p.reduce((a, b) => a + b, 0);
        // The nucleus: the most probable tokens until their mass reaches 0.5.
        const order = p.map((v, i) => [v / z, i]).sort((a, b) => b[0] - a[0]);
        const nucleus = new Set<number>();
        let cum = 0;
        for (const [q, i] of order) {
          nucleus.add(i);
          cum += q;
          if (cum >= 0.5) break;
        }
        expect(id).not.toBe(50256);
        expect(nucleus.has(id), `token ${id} at ${t}`).toBe(true);
      });
    }
  });

  it('a fluent dream from samples starts at a lower cross-entropy than one from random tokens', async () => {
    const cfg = { target: { kind: 'neuron' as const, layer: 1, neuron: 7 }, method: 'fluent' as const, steps: 1, seqLen: 8, lambdas: [0, 1, 2, 4], candidates: 2 };
    const fromRandom = await dreamToEnd(runDream({ model: lm.model, tokenizer: lm.tokenizer }, { ...cfg, init: 'random' }));
    const fromSamples = await dreamToEnd(runDream({ model: lm.model, tokenizer: lm.tokenizer }, { ...cfg, init: 'samples' }));
    const meanCE = (r: typeof fromRandom) => r.initial.reduce((a, d) => a + d.ce, 0) / r.initial.length;
    expect(meanCE(fromSamples)).toBeLessThan(meanCE(fromRandom) - 1);
    // Sampling is compute too: it is counted.
    expect(fromSamples.forwardEquivalents).toBe(fromRandom.forwardEquivalents + 4 * 8);
  });
});
