// Parameterisations: trainable variables → the input embeddings the model reads (free positions only).
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../corpus/rng.js';
import type { GPT2 } from '../model/gpt2.js';
import { decodeIds, decodeTensor, type DecoderName } from './decode.js';

export interface Parameterisation {
  name: string;
  variables: tf.Variable[];
  /** Soft input [B, T, d] fed to the model (token embeddings, or the residual stream at `residLayer`); differentiable w.r.t. `variables`. */
  embeds(): tf.Tensor3D;
  /** When set, embeds() is the residual stream entering this block, and the model runs from there. */
  residLayer?: number;
  /** The discrete tokens this state decodes to. */
  tokens(decoder: DecoderName): Promise<number[][]>;
  /** For parameterisations that decode padding too: every position's id, and how many lead positions are text. */
  decoded?(decoder: DecoderName): Promise<{ ids: number[][]; lengths: number[] }>;
  dispose(): void;
}

/** Start tokens: the prompt's ids repeated, or random ids drawn from a seeded generator. */
export function initialTokens(vocab: number, B: number, T: number, seed: number, prompt?: number[], allowed?: number[]): number[][] {
  const rand = rng(seed);
  return Array.from({ length: B }, () =>
    Array.from({ length: T }, (_, t) => {
      if (prompt && prompt.length) return prompt[t % prompt.length];
      return allowed ? allowed[Math.floor(rand() * allowed.length)] : Math.floor(rand() * vocab);
    }),
  );
}

/** A trainable variable owning its data (tf.variable leaves the initial tensor allocated). */
function variableFrom(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

function lookup(model: GPT2, ids: number[][]): tf.Tensor3D {
  return tf.tidy(() => model.embed(tf.tensor2d(ids, [ids.length, ids[0].length], 'int32')));
}

/** The baseline: free input embeddings, decoded afterwards. */
export function tokenEmbeddingParam(model: GPT2, init: number[][]): Parameterisation {
  const E = variableFrom(lookup(model, init));
  return {
    name: 'embed',
    variables: [E],
    embeds: () => E as unknown as tf.Tensor3D,
    tokens: (decoder) => decodeIds(model, E as unknown as tf.Tensor3D, decoder),
    dispose: () => E.dispose(),
  };
}

/**
 * PEZ-style projection: the model reads the nearest tokens' embeddings, and their gradient updates the
 * continuous embeddings (straight-through), so what is optimised is what gets decoded.
 */
export function projectedParam(model: GPT2, init: number[][], decoder: DecoderName): Parameterisation {
  const E = variableFrom(lookup(model, init));
  const straightThrough = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    const ids = decodeTensor(model, x as tf.Tensor3D, decoder);
    return { value: model.embed(ids), gradFunc: (dy: tf.Tensor) => dy };
  }) as never) as (x: tf.Tensor) => tf.Tensor3D;
  return {
    name: 'projected',
    variables: [E],
    embeds: () => straightThrough(E),
    tokens: (d) => decodeIds(model, E as unknown as tf.Tensor3D, d),
    dispose: () => E.dispose(),
  };
}

/** Top-k principal directions of the token-embedding matrix (subspace iteration), and the mean row. */
export function pcaBasis(model: GPT2, k: number, iters = 30): { mean: tf.Tensor1D; basis: tf.Tensor2D } {
  return tf.tidy(() => {
    const E = model.weights.wte;
    const mean = tf.mean(E, 0) as tf.Tensor1D;
    const X = tf.sub(E, mean) as tf.Tensor2D;
    const C = tf.div(tf.matMul(tf.transpose(X), X), E.shape[0]) as tf.Tensor2D; // [d, d]
    let Q = randomOrthonormal(C.shape[0], k, 7);
    for (let i = 0; i < iters; i++) Q = tf.linalg.qr(tf.matMul(C, Q))[0] as tf.Tensor2D;
    return { mean: tf.keep(mean), basis: tf.keep(tf.transpose(Q) as tf.Tensor2D) }; // basis [k, d]
  });
}

export function randomOrthonormal(d: number, k: number, seed: number): tf.Tensor2D {
  const rand = rng(seed);
  const data = Float32Array.from({ length: d * k }, () => rand() * 2 - 1);
  return tf.tidy(() => tf.linalg.qr(tf.tensor2d(data, [d, k]))[0] as tf.Tensor2D);
}

/** A k-dimensional latent per position: embeds = mean + z·U, with U [k, d] fixed (PCA or random orthonormal). */
export function subspaceParam(model: GPT2, init: number[][], k: number, basisKind: 'pca' | 'random', seed: number): Parameterisation {
  const d = model.config.dModel;
  if (k > d) throw new Error(`--k ${k} exceeds the embedding width ${d}: choose k ≤ ${d}`);
  const { mean, basis } =
    basisKind === 'pca'
      ? pcaBasis(model, k)
      : tf.tidy(() => ({ mean: tf.keep(tf.mean(model.weights.wte, 0) as tf.Tensor1D), basis: tf.keep(tf.transpose(randomOrthonormal(d, k, seed)) as tf.Tensor2D) }));
  const B = init.length;
  const T = init[0].length;
  // Start from the projection of the initial tokens' embeddings onto the subspace.
  const z = variableFrom(
    tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(tf.sub(lookup(model, init), mean), [B * T, d]) as tf.Tensor2D, tf.transpose(basis)), [B, T, k])),
  );
  const embeds = () => tf.add(tf.reshape(tf.matMul(tf.reshape(z, [B * T, k]) as tf.Tensor2D, basis), [B, T, d]), mean) as tf.Tensor3D;
  return {
    name: `subspace-${basisKind}-k${k}`,
    variables: [z],
    embeds,
    tokens: async (decoder) => {
      const t = tf.tidy(() => decodeTensor(model, embeds(), decoder));
      const ids = (await t.array()) as number[][];
      t.dispose();
      return ids;
    },
    dispose: () => tf.dispose([z, mean, basis]),
  };
}
