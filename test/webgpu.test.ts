// WebGPU specifics (the parameterised fixture and dreaming suites cover the rest): a vocabulary projection
// bigger than the adapter's storage-binding limit gives the same logits and gradients as wasm, and an
// over-limit binding is an error, never a tensor of zeros.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { neuronObjective } from '../src-main/dream/objectives.js';
import { buildGPT2, randomCheckpoint, randomIds, type ModelShape } from '../bench/lib/randomModel.js';
import { webgpuAvailable } from './helpers/backends.js';
import { maxAbsDiff } from './helpers/shared.js';

const gpu = await webgpuAvailable();

// One block, GPT-2-small width, the full vocabulary: wte is 50,257 × 768 × 4 B = 154 MB.
const SHAPE: ModelShape = { nLayer: 1, dModel: 768, nHead: 12, dMlp: 3072, vocabSize: 50257, nPositions: 16 };
const T = 8;

/** Last-position logits, and the value and input gradient of (mean neuron − 0.1·CE), read asynchronously. */
async function measure(backend: 'wasm' | 'webgpu') {
  const info = await initBackend(backend);
  expect(info.name).toBe(backend);
  const model = buildGPT2(SHAPE, randomCheckpoint(SHAPE, { seed: 4 }));
  const ids = randomIds(1, T, SHAPE.vocabSize, 9);
  const obj = neuronObjective(0, 5);
  const [logits, value, grad] = tf.tidy(() => {
    const emb = model.embed(tf.tensor2d(ids, [1, T], 'int32'));
    const f = (e: tf.Tensor) => {
      const r = model.run({ embeds: e as tf.Tensor3D }, { hooks: obj.hooks });
      const ce = tf.mean(model.tokenLoss({ embeds: e as tf.Tensor3D }, tf.tensor2d(ids.map((_, i) => ids[(i + 1) % T]), [1, T], 'int32')));
      return tf.sub(tf.mean(obj.value({ cache: r.cache })), tf.mul(0.1, ce)) as tf.Scalar;
    };
    const { value, grad } = tf.valueAndGrad(f)(emb);
    const logits = tf.slice(model.run({ embeds: emb }).logits!, [0, T - 1, 0], [1, 1, -1]);
    return [logits, value, grad];
  });
  const out = { logits: await logits.data(), value: (await value.data())[0], grad: await grad.data(), maxBindingBytes: info.maxBindingBytes };
  tf.dispose([logits, value, grad]);
  model.dispose();
  return out;
}

describe.skipIf(!gpu.ok)(`webgpu (${gpu.why})`, () => {
  it('reproduces wasm through a vocabulary projection larger than the binding limit', { timeout: 300_000 }, async () => {
    const ref = await measure('wasm');
    const got = await measure('webgpu');
    expect(SHAPE.vocabSize * SHAPE.dModel * 4).toBeGreaterThan(got.maxBindingBytes!);
    expect(Math.max(...Array.from(ref.logits, Math.abs))).toBeGreaterThan(0.1); // not a trivial regime
    expect(maxAbsDiff(got.logits, ref.logits)).toBeLessThan(1e-4);
    expect(Math.abs(got.value - ref.value)).toBeLessThan(1e-4);
    expect(Math.max(...Array.from(ref.grad, Math.abs))).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(got.grad, ref.grad)).toBeLessThan(1e-4);
  });

  it('reports an over-limit binding as an error, not as zeros', { timeout: 120_000 }, async () => {
    const info = await initBackend('webgpu');
    // Unchunked on purpose: one tensor just over the limit, summed by a kernel that binds it whole.
    const n = Math.floor(info.maxBindingBytes! / 4) + 1024;
    const big = tf.fill([n], 1);
    const s = tf.sum(big);
    await expect(s.data()).rejects.toThrow(/WebGPU reported .*binding/i);
    tf.dispose([big, s]);
    // The device keeps working afterwards.
    const ok = tf.sum(tf.ones([1000]));
    expect((await ok.data())[0]).toBe(1000);
    ok.dispose();
  });
});
