// Parity with test/fixtures/tiny-gpt2: values computed in float64 by an independent implementation.
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { lensLogits } from '../src-main/model/lens.js';
import { tokenCrossEntropy } from '../src-main/model/ops.js';
import { readSafetensorsFile, type RawTensor } from '../src-main/model/safetensors.js';
import { neuronObjective } from '../src-main/dream/objectives.js';
import { testBackends } from './helpers/backends.js';
import { FIXTURE, expected, maxAbsDiff } from './helpers/shared.js';

const variants = [
  { name: 'f32', dir: FIXTURE, atol: 1e-4, loss: expected.loss_fox, mean: expected.objective.mean_post },
  { name: 'f16', dir: join(FIXTURE, 'f16'), atol: 1e-3, loss: expected.variants.f16.loss_fox, mean: expected.variants.f16.mean_post },
  { name: 'bf16', dir: join(FIXTURE, 'bf16'), atol: 1e-3, loss: expected.variants.bf16.loss_fox, mean: expected.variants.bf16.mean_post },
];

const HOOK_MAP: Record<string, string> = {
  'resid_pre.0': 'blocks.0.hook_resid_pre',
  'resid_pre.1': 'blocks.1.hook_resid_pre',
  'resid_mid.0': 'blocks.0.hook_resid_mid',
  'resid_mid.1': 'blocks.1.hook_resid_mid',
  'mlp_pre.0': 'blocks.0.mlp.hook_pre',
  'mlp_pre.1': 'blocks.1.mlp.hook_pre',
  'mlp_post.0': 'blocks.0.mlp.hook_post',
  'mlp_post.1': 'blocks.1.mlp.hook_post',
  resid_final: 'blocks.1.hook_resid_post',
  ln_f: 'ln_final.hook_normalized',
};

/** Read tensors kept out of a tf.tidy, asynchronously (WebGPU in Node has no synchronous read), then free them. */
async function read<T extends Record<string, tf.Tensor>>(kept: T): Promise<{ [K in keyof T]: Float32Array }> {
  const out = {} as { [K in keyof T]: Float32Array };
  for (const k of Object.keys(kept) as (keyof T)[]) out[k] = (await kept[k].data()) as Float32Array;
  tf.dispose(Object.values(kept));
  return out;
}

for (const backend of await testBackends()) {
  describe.each(variants)(`tiny-gpt2 $name on ${backend}`, (v) => {
    let lm: LoadedModel;
    let ref: Map<string, RawTensor>;
    const fox = expected.tokens.fox.ids;
    beforeAll(async () => {
      const info = await initBackend(backend);
      expect(info.name).toBe(backend);
      lm = await loadModel(v.dir);
      ref = await readSafetensorsFile(join(v.dir, 'expected.fox.safetensors'));
    });
    afterAll(() => lm?.model.dispose());

    it('tokenizes and decodes every text exactly', () => {
      for (const [k, t] of Object.entries(expected.tokens)) {
        expect(lm.tokenizer.encode(t.text)).toEqual(t.ids);
        expect(lm.tokenizer.decode(t.ids)).toBe(expected.decoded[k]);
      }
      // No tokens (a latent the decoder ends at once) is the empty text, not an error from the library.
      expect(lm.tokenizer.decode([])).toBe('');
    });

    it('reproduces every hook, the logits, the loss and greedy tokens', async () => {
      const out = await read(
        tf.tidy(() => {
          const r = lm.model.run({ ids: tf.tensor2d([fox], [1, fox.length], 'int32') }, { hooks: Object.values(HOOK_MAP) });
          const logits = tf.reshape(r.logits!, [fox.length, -1]) as tf.Tensor2D;
          const ce = tokenCrossEntropy(tf.slice(logits, [0, 0], [fox.length - 1, -1]), tf.tensor1d(fox.slice(1), 'int32'));
          // The fused loss (training's path) too, against the same reference.
          const fused = lm.model.tokenLoss({ ids: tf.tensor2d([fox.slice(0, -1)], [1, fox.length - 1], 'int32') }, tf.tensor2d([fox.slice(1)], [1, fox.length - 1], 'int32'));
          const hooks = Object.fromEntries(Object.entries(HOOK_MAP).map(([k, h]) => [k, r.cache.get(h)!]));
          return { ...hooks, logits, loss: tf.mean(ce), fused: tf.mean(fused), greedy: tf.cast(tf.argMax(logits, -1), 'float32') };
        }),
      );
      for (const k of Object.keys(HOOK_MAP)) expect(maxAbsDiff((out as Record<string, Float32Array>)[k], ref.get(k)!.data), k).toBeLessThan(v.atol);
      expect(maxAbsDiff(out.logits, ref.get('logits')!.data)).toBeLessThan(v.atol);
      expect(Math.abs(out.loss[0] - v.loss)).toBeLessThan(v.atol);
      expect(Math.abs(out.fused[0] - v.loss)).toBeLessThan(v.atol);
      if (v.name === 'f32') expect(Array.from(out.greedy)).toEqual(expected.greedy_next_ids_fox);
    });

    it('reproduces the logit lens from resid_pre.1', async () => {
      const { position } = expected.logit_lens;
      const { lens } = await read(
        tf.tidy(() => {
          const r = lm.model.run({ ids: tf.tensor2d([fox], [1, fox.length], 'int32') }, { hooks: ['blocks.1.hook_resid_pre'] });
          const vec = tf.slice(r.cache.get('blocks.1.hook_resid_pre')!, [0, position, 0], [1, 1, -1]);
          return { lens: lensLogits(lm.model, tf.reshape(vec, [-1])) };
        }),
      );
      if (v.name === 'f32') {
        // Only the F32 reference file carries the lens vector.
        expect(maxAbsDiff(lens, ref.get('logit_lens')!.data)).toBeLessThan(v.atol);
        const top = Array.from(lens.keys()).sort((a, b) => lens[b] - lens[a]).slice(0, 10);
        expect(top).toEqual(expected.logit_lens.top10_ids);
      }
    });

    it('reproduces the neuron objectives and their gradients w.r.t. token embeddings', async () => {
      const { layer, neuron } = expected.objective;
      for (const [transform, key] of [['none', 'grad_embeds.mean_post'], ['sigmoid', 'grad_embeds.mean_sigmoid_post']] as const) {
        const obj = neuronObjective(layer, neuron, { transform });
        const out = await read(
          tf.tidy(() => {
            const emb = lm.model.embed(tf.tensor2d([fox], [1, fox.length], 'int32'));
            const f = (e: tf.Tensor) => {
              const r = lm.model.run({ embeds: e as tf.Tensor3D }, { hooks: obj.hooks, stopAtLayer: obj.maxLayer + 1 });
              return tf.sum(obj.value({ cache: r.cache })) as tf.Scalar;
            };
            return tf.valueAndGrad(f)(emb);
          }),
        );
        const value = out.value[0];
        const grad = out.grad;
        if (transform === 'none') expect(Math.abs(value - v.mean)).toBeLessThan(v.atol);
        if (transform === 'sigmoid' && v.name === 'f32') expect(Math.abs(value - expected.objective.mean_sigmoid_post)).toBeLessThan(v.atol);
        expect(maxAbsDiff(grad, ref.get(key)!.data), key).toBeLessThan(v.atol);
      }
    });
  });
}
