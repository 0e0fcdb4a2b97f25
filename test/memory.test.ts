// A dreaming-shaped optimisation loop must not leak: 200 steps of forward + backward + Adam on the input
// embeddings, each step in its own tf.tidy, leave tf.memory() exactly where it was after a 2-step burn-in
// (Adam's slot variables appear on the first step).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { augmentedVocab } from '../src-main/ae/model.js';
import { decodeTensor } from '../src-main/dream/decode.js';
import { neuronObjective } from '../src-main/dream/objectives.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { meanCrossEntropy } from '../src-main/model/ops.js';
import { FIXTURE, expected } from './helpers/shared.js';

let lm: LoadedModel;
beforeAll(async () => {
  expect((await initBackend('wasm')).name).toBe('wasm');
  lm = await loadModel(FIXTURE);
});
afterAll(() => lm?.model.dispose());

it('200 steps of forward+backward+Adam keep numTensors and numBytes flat after burn-in', () => {
  const ids = expected.tokens.fox.ids;
  const T = ids.length;
  const objective = neuronObjective(expected.objective.layer, expected.objective.neuron);
  const targets = tf.tensor1d(ids.slice(1), 'int32');
  const embeds = tf.variable(tf.tidy(() => lm.model.embed(tf.tensor2d([ids], [1, T], 'int32'))), true, 'dream.embeds');
  const optimizer = tf.train.adam(0.01);

  // Loss: −neuron objective + mean next-token cross-entropy (fluency), from embeddings through the logits.
  const loss = (e: tf.Tensor): tf.Scalar => {
    const r = lm.model.run({ embeds: e as tf.Tensor3D }, { hooks: objective.hooks });
    const logits = tf.reshape(r.logits!, [T, -1]) as tf.Tensor2D; // [T, V]
    const ce = meanCrossEntropy(tf.slice(logits, [0, 0], [T - 1, -1]) as tf.Tensor2D, targets);
    return tf.sub(ce, tf.mean(objective.value({ cache: r.cache }))) as tf.Scalar;
  };
  const step = (): number =>
    tf.tidy(() => {
      const { value, grad } = tf.valueAndGrad(loss)(embeds);
      optimizer.applyGradients([{ name: embeds.name, tensor: grad }]);
      return value.dataSync()[0];
    });

  const snapshots = new Map<number, tf.MemoryInfo>();
  const values: number[] = [];
  for (let s = 1; s <= 200; s++) {
    values.push(step());
    if (s === 2 || s === 100 || s === 200) snapshots.set(s, tf.memory());
  }
  const [m2, m100, m200] = [snapshots.get(2)!, snapshots.get(100)!, snapshots.get(200)!];
  expect(m200.numTensors).toBe(m2.numTensors);
  expect(m100.numTensors).toBe(m2.numTensors);
  expect(m200.numBytes).toBeLessThanOrEqual(m2.numBytes);
  expect(values.every(Number.isFinite)).toBe(true);
  // The step did something: the loss went down.
  expect(values.at(-1)!).toBeLessThan(values[0]);

  optimizer.dispose();
  tf.dispose([embeds, targets]);
});

it('loading and unloading two models returns numTensors to its baseline, decoder caches included', async () => {
  const baseline = tf.memory().numTensors;
  for (let round = 0; round < 2; round++) {
    const a = await loadModel(FIXTURE);
    const b = await loadModel(FIXTURE);
    for (const m of [a.model, b.model]) {
      // Cosine decoding builds the unit-norm embedding cache and the autoencoder's augmented vocabulary another,
      // both from inside a tidy scope, as dreams and training call them.
      tf.tidy(() => {
        const emb = m.embed(tf.tensor2d([expected.tokens.fox.ids], [1, expected.tokens.fox.ids.length], 'int32'));
        const ids = decodeTensor(m, emb, 'cosine');
        expect(Array.from(ids.dataSync())).toEqual(expected.tokens.fox.ids);
        augmentedVocab(m);
      });
    }
    expect(tf.memory().numTensors).toBeGreaterThan(baseline);
    a.model.dispose();
    b.model.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  }
});
