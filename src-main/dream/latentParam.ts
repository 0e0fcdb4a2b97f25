// The sentence autoencoder's latent as a parameterisation: z [B, k] → decoder → the model's input embeddings
// (soft, or the decoded tokens' own embeddings with a straight-through gradient), or the residual stream the
// model would carry at layer ℓ (the study's future work). Every z decodes to a sentence-like token sequence.
import * as tf from '@tensorflow/tfjs-core';
import { decodeLatents, type LatentDecoding } from '../ae/decode.js';
import type { SentenceAE } from '../ae/model.js';
import { rng } from '../corpus/rng.js';
import type { GPT2 } from '../model/gpt2.js';
import type { Parameterisation } from './params.js';

export interface LatentOptions {
  /** 0: the decoder writes input embeddings; ℓ ≥ 1: it writes the residual stream entering block ℓ. */
  layer: number;
  /** Input embeddings only: the model reads the decoded tokens' embeddings, the gradient flows to the soft ones. */
  straightThrough: boolean;
  seed: number;
  /** Start from these sentences' latents (token rows) instead of random ones. */
  init?: number[][];
  /** How the latent becomes the text that is judged (argmax, or fused with the model: ae/decode.ts). */
  decoding?: LatentDecoding;
}

/** Seeded N(0, 1) latents: the decoder reads directions only, so any scale works. */
export function randomLatents(B: number, k: number, seed: number): Float32Array {
  const rand = rng(seed);
  return Float32Array.from({ length: B * k }, () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand()));
}

export function latentParam(model: GPT2, ae: SentenceAE, B: number, o: LatentOptions): Parameterisation {
  const { k, T, residLayers } = ae.shape;
  if (o.layer > 0 && !residLayers.includes(o.layer)) {
    throw new Error(`this autoencoder writes the residual stream at layers ${residLayers.join(', ') || '(none)'}, not ${o.layer}: choose --latent-layer 0${residLayers.map((l) => `, ${l}`).join('')}`);
  }
  const start = o.init?.length
    ? tf.tidy(() => {
        const rows = Array.from({ length: B }, (_, b) => o.init![b % o.init!.length].slice(0, T));
        const ids = new Int32Array(B * T).fill(model.config.eosTokenId);
        rows.forEach((r, b) => ids.set(r, b * T));
        return ae.encode(model, tf.tensor2d(ids, [B, T], 'int32'), rows.map((r) => r.length));
      })
    : tf.tensor2d(randomLatents(B, k, o.seed), [B, k]);
  const z = tf.variable(start, true);
  start.dispose();
  // Straight-through: the model reads `hard` (the decoded tokens' embeddings); the gradient goes to `soft` as is.
  const straightThrough = (soft: tf.Tensor3D, hard: tf.Tensor3D) =>
    (tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      save([]);
      return { value: tf.clone(hard), gradFunc: (dy: tf.Tensor) => dy };
    }) as never) as (x: tf.Tensor) => tf.Tensor3D)(soft);
  const decoded = () => decodeLatents(model, ae, z as unknown as tf.Tensor2D, o.decoding);
  return {
    name: `latent-k${k}${o.layer > 0 ? `-layer${o.layer}` : ''}${o.straightThrough ? '-st' : ''}`,
    variables: [z],
    residLayer: o.layer > 0 ? o.layer : undefined,
    embeds: () => {
      const h = ae.decode(z as unknown as tf.Tensor2D);
      if (o.layer > 0) return ae.head(h, `resid${o.layer}`);
      const soft = ae.head(h, 'embed');
      if (!o.straightThrough) return soft;
      // Tokens from the same decoder states (one decode per step).
      const [b, t, d] = soft.shape;
      const ids = tf.reshape(ae.tokensAt(model, tf.reshape(ae.head(h, 'logit'), [-1, d]) as tf.Tensor2D), [b, t]) as tf.Tensor2D;
      return straightThrough(soft, tf.reshape(model.embed(ids), [b, t, d]) as tf.Tensor3D);
    },
    decoded,
    tokens: async () => {
      const { ids, lengths } = await decoded();
      return ids.map((r, b) => r.slice(0, lengths[b]));
    },
    dispose: () => {
      z.dispose();
      ae.dispose();
    },
  };
}
