// The TopK sparse autoencoder's training step as SAELens defines the architecture "topk" (with
// apply_b_dec_to_input): pre = (x − b_dec)·W_enc + b_enc, keep each row's k largest, ReLU; recon = f·W_dec + b_dec;
// loss = Σ_d (recon − x)² averaged over tokens, plus the optional AuxK term of Gao et al. (2024, appendix A.2):
// the top k_aux pre-activations among dead latents (no ReLU) decode, without b_dec, the main reconstruction's
// detached error. Gradients are written out by hand: TensorFlow.js has no gradient for topk or scatterND, and the
// selection is piecewise constant anyway, so the closed form is the exact gradient wherever the top k are unique.
import * as tf from '@tensorflow/tfjs-core';

export interface TopKParams {
  W_enc: tf.Tensor2D; // [d_in, d_sae]
  b_enc: tf.Tensor1D; // [d_sae]
  W_dec: tf.Tensor2D; // [d_sae, d_in]
  b_dec: tf.Tensor1D; // [d_in]
}

export type TopKGrads = { [K in keyof TopKParams]: TopKParams[K] };

export interface TopKSettings {
  k: number;
  applyBDecToInput: boolean;
}

/** AuxK for one step: which latents count as dead now, and how the term is sized. */
export interface AuxKStep {
  /** 1 for each dead latent, 0 otherwise [d_sae]. */
  dead: tf.Tensor1D;
  numDead: number;
  /** k_aux before the cap by numDead (Gao et al.: d_in / 2). */
  kAux: number;
  coefficient: number;
}

export interface TopKEncoding {
  /** The encoder's input: x − b_dec, or x. */
  xIn: tf.Tensor2D;
  pre: tf.Tensor2D;
  /** Latent activations [B, d_sae]: the ReLU of the k largest pre-activations, zero elsewhere. */
  f: tf.Tensor2D;
  /** 1 where a latent is among the top k and positive (where ∂f/∂pre = 1), else 0. */
  gate: tf.Tensor2D;
}

/**
 * The k largest entries of each row of pre, scattered back to [rows, d_sae] (after ReLU when `relu`), and their gate:
 * 1 where ∂f/∂pre = 1 (among the top k, and positive when `relu`), else 0.
 */
export function scatterTopK(pre: tf.Tensor2D, k: number, relu: boolean): { f: tf.Tensor2D; gate: tf.Tensor2D } {
  return tf.tidy(() => {
    const [rows, dSae] = pre.shape;
    const { values, indices } = tf.topk(pre, k);
    const rowIds = tf.tile(tf.reshape(tf.range(0, rows, 1, 'int32'), [rows, 1]), [1, k]);
    const at = tf.stack([tf.reshape(rowIds, [-1]), tf.reshape(indices, [-1])], 1);
    const f = tf.scatterND(at, tf.reshape(relu ? tf.relu(values) : values, [-1]), [rows, dSae]) as tf.Tensor2D;
    // After ReLU the gate is exactly where f > 0; without it, the top k themselves (a second scatter).
    const gate = relu ? tf.cast(tf.greater(f, 0), 'float32') : tf.scatterND(at, tf.ones([rows * k]), [rows, dSae]);
    return { f, gate: gate as tf.Tensor2D };
  });
}

/** aᵀ·b and a·bᵀ with the transpose made explicit: a transposed matMul operand is the slow path on wasm (40×). */
const matMulTA = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.matMul(tf.transpose(a), b);
const matMulTB = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.matMul(a, tf.transpose(b));

export function topkEncode(p: TopKParams, x: tf.Tensor2D, s: TopKSettings): TopKEncoding {
  return tf.tidy(() => {
    const xIn = s.applyBDecToInput ? (tf.sub(x, p.b_dec) as tf.Tensor2D) : x.clone();
    const pre = tf.add(tf.matMul(xIn, p.W_enc), p.b_enc) as tf.Tensor2D;
    const { f, gate } = scatterTopK(pre, s.k, true);
    return { xIn, pre, f, gate };
  });
}

export function topkDecode(p: TopKParams, f: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(f, p.W_dec), p.b_dec) as tf.Tensor2D);
}

export interface TopKStep {
  /** Σ_d (recon − x)², averaged over the batch's tokens. */
  mse: tf.Scalar;
  /** The AuxK term as added to the loss (0 without dead latents or with coefficient 0). */
  aux: tf.Scalar;
  /** Σ‖recon − x‖² and Σ‖x − batch mean‖²: the batch's fraction of variance explained is 1 − sse / variance. */
  sse: tf.Scalar;
  variance: tf.Scalar;
  /** Mean count of active latents per token. */
  l0: tf.Scalar;
  /** 1 for each latent active on at least one token of the batch [d_sae]. */
  fired: tf.Tensor1D;
  /** ∂(mse + aux)/∂ each parameter. */
  grads: TopKGrads;
}

/**
 * Loss, statistics and exact gradients of one batch x [B, d_in]. With g = ∂loss/∂recon = 2(recon − x)/B:
 *   ∂W_dec = fᵀg,  ∂pre = (g·W_decᵀ) ⊙ gate,  ∂W_enc = xInᵀ·∂pre,  ∂b_enc = Σ ∂pre,
 *   ∂b_dec = Σ g − (Σ ∂pre)·W_encᵀ   (the second term only when b_dec is subtracted from the input),
 * and AuxK adds its own g, ∂W_dec and ∂pre the same way.
 */
export function topkStep(p: TopKParams, x: tf.Tensor2D, s: TopKSettings, aux?: AuxKStep): TopKStep {
  return tf.tidy(() => {
    const B = x.shape[0];
    const { xIn, pre, f, gate } = topkEncode(p, x, s);
    const err = tf.sub(topkDecode(p, f), x); // recon − x
    const sse = tf.sum(tf.square(err)) as tf.Scalar;
    const mse = tf.div(sse, B) as tf.Scalar;
    const g = tf.mul(err, 2 / B) as tf.Tensor2D;
    let dW_dec = matMulTA(f, g);
    const W_decT = tf.transpose(p.W_dec);
    let dPre = tf.mul(tf.matMul(g, W_decT), gate);

    let auxLoss: tf.Scalar = tf.scalar(0);
    if (aux && aux.coefficient > 0 && aux.numDead > 0) {
      const kAux = Math.min(aux.kAux, aux.numDead);
      // Fewer dead latents than k_aux: the term is scaled down in proportion (as SAELens and Gao et al. do).
      const c = aux.coefficient * Math.min(aux.numDead / aux.kAux, 1);
      // Live latents pushed to -1e30 so that the top k_aux are dead ones; their values keep their sign (no ReLU).
      const deadPre = tf.add(pre, tf.mul(tf.sub(aux.dead, 1), 1e30)) as tf.Tensor2D;
      const { f: fA, gate: gateA } = scatterTopK(deadPre, kAux, false);
      // The residual the live latents left, detached: recon − x = err, so êA − (x − recon) = êA + err.
      const errA = tf.add(tf.matMul(fA, p.W_dec), err);
      auxLoss = tf.mul(tf.div(tf.sum(tf.square(errA)), B), c) as tf.Scalar;
      const gA = tf.mul(errA, (2 * c) / B) as tf.Tensor2D;
      dW_dec = tf.add(dW_dec, matMulTA(fA, gA));
      dPre = tf.add(dPre, tf.mul(tf.matMul(gA, W_decT), gateA));
    }

    const dW_enc = matMulTA(xIn, dPre as tf.Tensor2D);
    const db_enc = tf.sum(dPre, 0);
    let db_dec = tf.sum(g, 0);
    if (s.applyBDecToInput) db_dec = tf.sub(db_dec, tf.reshape(matMulTB(tf.reshape(db_enc, [1, -1]), p.W_enc), [-1]));

    const centred = tf.sub(x, tf.mean(x, 0, true));
    const active = tf.cast(tf.greater(f, 0), 'float32');
    return {
      mse,
      aux: auxLoss,
      sse,
      variance: tf.sum(tf.square(centred)) as tf.Scalar,
      l0: tf.div(tf.sum(active), B) as tf.Scalar,
      fired: tf.cast(tf.greater(tf.sum(active, 0), 0), 'float32') as tf.Tensor1D,
      grads: { W_enc: dW_enc as tf.Tensor2D, b_enc: db_enc as tf.Tensor1D, W_dec: dW_dec as tf.Tensor2D, b_dec: db_dec as tf.Tensor1D },
    };
  });
}

/**
 * The decoder gradient with each row's component along that row removed: with unit-norm rows (renormalised after
 * every step), a change along the row would only be undone by the renormalisation (Gao et al.; SAELens's
 * remove_gradient_parallel_to_decoder_directions).
 */
export function withoutParallelComponent(dW_dec: tf.Tensor2D, W_dec: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sub(dW_dec, tf.mul(tf.sum(tf.mul(dW_dec, W_dec), 1, true), W_dec)) as tf.Tensor2D);
}

/** W_dec with every row scaled to unit norm (a zero row stays zero). */
export function unitRows(W_dec: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(W_dec, tf.maximum(tf.norm(W_dec, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D);
}
