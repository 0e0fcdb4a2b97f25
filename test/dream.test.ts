// The dreaming engine on the shared fixture: gradients against finite differences, decoders, hard evaluation,
// determinism, abort, memory, and that every method raises the hard activation.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { withPrefix } from '../src-main/dream/continuous.js';
import { decodeIds } from '../src-main/dream/decode.js';
import { measureTexts } from '../src-main/dream/hard.js';
import { directionTarget, neuronSumTarget, neuronTarget, targetObjective, type Objective } from '../src-main/dream/objectives.js';
import { fluencyPenalty, manifoldDistance } from '../src-main/dream/regularisers.js';
import { dreamToEnd, runDream } from '../src-main/dream/run.js';
import { METHODS } from '../src-main/dream/config.js';
import { lensLogits } from '../src-main/model/lens.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { rng } from '../src-main/corpus/rng.js';
import { testBackends } from './helpers/backends.js';
import { FIXTURE } from './helpers/shared.js';

let lm: LoadedModel;
const ctx = () => ({ model: lm.model, tokenizer: lm.tokenizer });
const target = { kind: 'neuron' as const, layer: 1, neuron: 7 };

beforeAll(async () => {
  await initBackend('cpu'); // finite differences want the reference backend
  lm = await loadModel(FIXTURE);
});
afterAll(() => lm.model.dispose());

/** Central finite differences of f at a few coordinates of x, against tf.grad. */
function checkGradient(f: (x: tf.Tensor3D) => tf.Scalar, x: tf.Tensor3D, coords = 12, eps = 1e-2): number {
  const grad = tf.tidy(() => tf.grad((e: tf.Tensor) => f(e as tf.Tensor3D))(x).dataSync().slice());
  const base = x.dataSync().slice();
  const rand = rng(99);
  let worst = 0;
  for (let c = 0; c < coords; c++) {
    const i = Math.floor(rand() * base.length);
    const at = (delta: number) =>
      tf.tidy(() => {
        const v = base.slice();
        v[i] += delta;
        return f(tf.tensor3d(v, x.shape)).dataSync()[0];
      });
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    worst = Math.max(worst, Math.abs(fd - grad[i]) / Math.max(1e-3, Math.abs(fd) + Math.abs(grad[i])));
  }
  return worst;
}

function objectiveFn(obj: Objective) {
  return (e: tf.Tensor3D) => {
    const { input, mask } = withPrefix(lm.model, e);
    const r = lm.model.run({ embeds: input }, { hooks: obj.hooks, stopAtLayer: obj.maxLayer + 1 });
    return tf.sum(obj.value({ cache: r.cache, mask })) as tf.Scalar;
  };
}

describe('gradients match finite differences', () => {
  const ids = [[464, 2068, 7586, 21831, 18045], [625, 262, 16931, 3290, 13]];
  const emb = () => tf.tidy(() => lm.model.embed(tf.tensor2d(ids, [2, 5], 'int32')));
  const dir = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 1));
  const cases: [string, () => Objective][] = [
    ['neuron mean', () => targetObjective(neuronTarget(1, 7))],
    ['neuron mean of sigmoid', () => targetObjective(neuronTarget(1, 7), { transform: 'sigmoid' })],
    ['neuron at last position', () => targetObjective(neuronTarget(0, 3), { reduce: 'last' })],
    ['residual direction', () => targetObjective(directionTarget('blocks.1.hook_resid_mid', dir, 1))],
    ['weighted neuron sum', () => targetObjective(neuronSumTarget([{ layer: 0, neuron: 3, weight: 1 }, { layer: 1, neuron: 7, weight: -0.5 }]))],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const x = emb();
      expect(checkGradient(objectiveFn(make()), x)).toBeLessThan(2e-2);
      x.dispose();
    });
  }
  it('fluency penalty (cross-entropy of decoded targets)', () => {
    const x = emb();
    const targets = tf.tensor2d(ids, [2, 5], 'int32');
    const f = (e: tf.Tensor3D) => {
      const { input } = withPrefix(lm.model, e);
      return fluencyPenalty(lm.model.run({ embeds: input }).logits!, targets);
    };
    expect(checkGradient(f, x)).toBeLessThan(2e-2);
    tf.dispose([x, targets]);
  });
  it('embedding-manifold distance', () => {
    const x = tf.tidy(() => tf.add(emb(), tf.mul(0.05, tf.randomNormal([2, 5, 32], 0, 1, 'float32', 3))) as tf.Tensor3D);
    expect(checkGradient((e) => manifoldDistance(lm.model, e), x)).toBeLessThan(2e-2);
    x.dispose();
  });
});

const BACKENDS = await testBackends();

describe.each(BACKENDS)('on %s', (backend) => {
beforeAll(async () => {
  const info = await initBackend(backend);
  expect(info.name).toBe(backend);
  lm.model.dispose();
  lm = await loadModel(FIXTURE);
});

describe('decoders', () => {
  it('cosine nearest token round-trips token embeddings exactly', async () => {
    const rand = rng(5);
    const ids = [Array.from({ length: 16 }, () => Math.floor(rand() * 50257))];
    const e = tf.tidy(() => lm.model.embed(tf.tensor2d(ids, [1, 16], 'int32')));
    expect(await decodeIds(lm.model, e, 'cosine')).toEqual(ids);
    e.dispose();
  });
  it('dot and lens decoders are the argmax of their closed forms', async () => {
    const e = tf.tidy(() => tf.randomNormal([1, 3, 32], 0, 0.1, 'float32', 11) as tf.Tensor3D);
    const wte = (await lm.model.weights.wte.array()) as number[][];
    const vecs = ((await e.array()) as number[][][])[0];
    const argmax = (scores: number[]) => scores.reduce((b, v, i, a) => (v > a[b] ? i : b), 0);
    expect((await decodeIds(lm.model, e, 'dot'))[0]).toEqual(vecs.map((v) => argmax(wte.map((row) => row.reduce((s, w, j) => s + w * v[j], 0)))));
    const lensT = tf.tidy(() => lensLogits(lm.model, e));
    const lens = (await lensT.array()) as number[][][];
    lensT.dispose();
    expect((await decodeIds(lm.model, e, 'lens'))[0]).toEqual(lens[0].map(argmax));
    e.dispose();
  });
});

describe('hard evaluation', () => {
  it('re-tokenises and measures the text with a BOS prefix, independently recomputed', async () => {
    const text = 'The quick brown fox jumps';
    const [h] = await measureTexts(lm.model, lm.tokenizer, neuronTarget(1, 7), [text], 'mean');
    const ids = [50256, ...lm.tokenizer.encode(text)];
    const [postT, logitsT] = tf.tidy(() => {
      const r = lm.model.run({ ids: tf.tensor2d([ids], [1, ids.length], 'int32') }, { hooks: ['blocks.1.mlp.hook_post'] });
      return [r.cache.get('blocks.1.mlp.hook_post')!, r.logits!];
    });
    const post = (await postT.array()) as number[][][];
    const logits = (await logitsT.array()) as number[][][];
    tf.dispose([postT, logitsT]);
    const { acts, ce } = (() => {
      let nats = 0;
      for (let t = 0; t < ids.length - 1; t++) {
        const row = logits[0][t];
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        nats += lse - row[ids[t + 1]];
      }
      return { acts: post[0].slice(1).map((p) => p[7]), ce: nats / (ids.length - 1) };
    })();
    expect(h.ids).toEqual(ids.slice(1));
    h.perToken.forEach((v, i) => expect(v).toBeCloseTo(acts[i], 5));
    expect(h.mean).toBeCloseTo(acts.reduce((a, b) => a + b, 0) / acts.length, 5);
    expect(h.max).toBeCloseTo(Math.max(...acts), 5);
    expect(h.ce).toBeCloseTo(ce, 4);
  });
});

describe('dream runs', () => {
  // wasm runs the full lengths; cpu and software WebGPU (lavapipe) are ~5-10× slower, so their runs are shorter.
  const slow = backend !== 'wasm';
  const small = { target, steps: 12, every: 4, seqLen: 6, batch: 3, lambdas: [0, 0.5, 2], candidates: 6 };

  it.each(METHODS)('%s raises the hard activation above its start', async (method) => {
    const res = await dreamToEnd(runDream(ctx(), { ...small, method, steps: method === 'fluent' ? (slow ? 6 : 12) : 30, lr: 0.1 }));
    const start = Math.max(...res.initial.map((d) => d.value));
    expect(res.stopped).toBe('completed');
    expect(res.best!.value).toBeGreaterThan(start);
    // The best dream's value is a hard measurement of its own text.
    const [again] = await measureTexts(lm.model, lm.tokenizer, neuronTarget(1, 7), [res.best!.text], 'mean');
    expect(again.value).toBeCloseTo(res.best!.value, 4);
  });

  it.each(['embed', 'fluent'] as const)('%s is deterministic for a seed', async (method) => {
    const run = async (seed: number) => {
      const texts: string[] = [];
      const res = await dreamToEnd(runDream(ctx(), { ...small, method, seed, steps: slow && method === 'fluent' ? 4 : small.steps }), (r) => texts.push(...r.dreams.map((d) => d.text)));
      return { texts, best: res.best!.value };
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(b).toEqual(a);
    expect(c.texts).not.toEqual(a.texts);
  });

  it('stops on an AbortSignal in the middle of a run', async () => {
    const ac = new AbortController();
    let records = 0;
    const res = await dreamToEnd(runDream(ctx(), { ...small, method: 'embed', steps: 1000, every: 2 }, ac.signal), () => {
      records += 1;
      if (records === 3) ac.abort();
    });
    expect(res.stopped).toBe('aborted');
    expect(res.steps).toBe(6);
    expect(res.best).not.toBeNull();
  });

  it.each([
    ['embed', slow ? 60 : 500],
    ['projected', slow ? 40 : 150],
    ['subspace', slow ? 40 : 150],
  ] as const)('%s keeps tf.memory().numTensors flat over %i steps', { timeout: 400_000 }, async (method, steps) => {
    let atBurnIn = -1;
    let bytesAtBurnIn = -1;
    const res = await dreamToEnd(
      runDream(ctx(), { ...small, method, steps, every: 10, seqLen: 4, batch: 2, fluency: 0.1, manifold: method === 'embed' ? 0.1 : 0, k: 8 }),
      (r) => {
        if (r.step === 10) {
          atBurnIn = tf.memory().numTensors;
          bytesAtBurnIn = tf.memory().numBytes;
        }
        if (r.step > 10) {
          expect(tf.memory().numTensors).toBe(atBurnIn);
          expect(tf.memory().numBytes).toBe(bytesAtBurnIn);
        }
      },
    );
    expect(res.steps).toBe(steps);
  });

  it('fluent keeps tf.memory().numTensors flat', async () => {
    const counts: number[] = [];
    await dreamToEnd(runDream(ctx(), { ...small, method: 'fluent', steps: slow ? 15 : 30, every: 5, topP: 0.9 }), () => counts.push(tf.memory().numTensors));
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  it('leaves no tensors behind after a run', async () => {
    const cfg = { ...small, method: 'subspace' as const, steps: 4 };
    await dreamToEnd(runDream(ctx(), cfg)); // warms the model's per-length mask cache
    const before = tf.memory().numTensors;
    await dreamToEnd(runDream(ctx(), cfg));
    expect(tf.memory().numTensors).toBe(before);
  });
});
});
