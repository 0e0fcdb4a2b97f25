// The decoder's residual-stream heads, fitted in closed form once the autoencoder is trained: for each layer ℓ,
// the ridge regression from the decoder's states h (of real sentences' latents) to the residual stream the frozen
// model carries at ℓ on those sentences. Linear heads, so least squares is exact and needs no gradient steps.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { hookName } from '../model/hooks.js';
import type { SentenceAE } from './model.js';
import { padRows } from './sentences.js';

/** Solve (A + λI)·X = B for symmetric positive-definite A [n, n] (row-major), B [n, m], by Cholesky in float64. */
export function solveRidge(A: Float64Array, B: Float64Array, n: number, m: number, lambda: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j] + (i === j ? lambda : 0);
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error('ridge system is not positive definite: raise the ridge λ');
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  const X = new Float64Array(n * m);
  for (let c = 0; c < m; c++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = B[i * m + c];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
      y[i] = s / L[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * X[k * m + c];
      X[i * m + c] = s / L[i * n + i];
    }
  }
  return X;
}

/** Decoder states [B·T, d] of rows' (noise-free) latents and the model's residual streams there, per layer. */
async function statesAndTargets(model: GPT2, ae: SentenceAE, rows: readonly number[][], layers: number[]): Promise<{ H: Float32Array; R: Map<number, Float32Array>; n: number }> {
  const { T, dModel: d } = ae.shape;
  const B = rows.length;
  const { ids, lengths } = padRows(rows, T, model.config.eosTokenId);
  const withBos = new Int32Array(B * (T + 1)).fill(model.config.bosTokenId);
  for (let b = 0; b < B; b++) withBos.set(ids.subarray(b * T, (b + 1) * T), b * (T + 1) + 1);
  const [Ht, ...Rt] = tf.tidy(() => {
    const h = ae.decode(ae.encode(model, tf.tensor2d(ids, [B, T], 'int32'), lengths));
    const cache = model.run({ ids: tf.tensor2d(withBos, [B, T + 1], 'int32') }, { hooks: layers.map((l) => hookName(l, 'hook_resid_pre')), stopAtLayer: Math.max(...layers) + 1 }).cache;
    return [tf.reshape(h, [B * T, d]), ...layers.map((l) => tf.reshape(tf.slice(cache.get(hookName(l, 'hook_resid_pre'))!, [0, 1, 0], [B, T, d]), [B * T, d]))];
  });
  const H = (await Ht.data()) as Float32Array;
  const R = new Map<number, Float32Array>();
  for (let i = 0; i < layers.length; i++) R.set(layers[i], (await Rt[i].data()) as Float32Array);
  tf.dispose([Ht, ...Rt]);
  return { H, R, n: B * T };
}

/** One batch's normal-equation products: Xᵀ·X [n, n] and, per layer, Xᵀ·R [n, d], with X = [states, 1]. */
async function normalProducts(model: GPT2, ae: SentenceAE, rows: readonly number[][], layers: number[]): Promise<{ XtX: Float32Array; XtR: Map<number, Float32Array> }> {
  const { H, R, n: N } = await statesAndTargets(model, ae, rows, layers);
  const d = ae.shape.dModel;
  const [xtx, ...xtr] = tf.tidy(() => {
    const X = tf.concat([tf.tensor2d(H, [N, d]), tf.ones([N, 1])], 1) as tf.Tensor2D;
    const XT = tf.transpose(X) as tf.Tensor2D; // explicit: transposed matMuls are the slow path on wasm
    return [tf.matMul(XT, X), ...layers.map((l) => tf.matMul(XT, tf.tensor2d(R.get(l)!, [N, d])))];
  });
  const XtX = (await xtx.data()) as Float32Array;
  const XtR = new Map<number, Float32Array>();
  for (let i = 0; i < layers.length; i++) XtR.set(layers[i], (await xtr[i].data()) as Float32Array);
  tf.dispose([xtx, ...xtr]);
  return { XtX, XtR };
}

export interface ResidualFit {
  layer: number;
  /** Fraction of the residual stream's variance the head explains on the evaluation rows. */
  r2: number;
}

/**
 * Fit every residual head of `ae` on `fitRows` and report R² on `evalRows`. The heads' variables are overwritten.
 */
export async function fitResidualHeads(model: GPT2, ae: SentenceAE, fitRows: readonly number[][], evalRows: readonly number[][], lambda = 1e-2, batch = 128): Promise<ResidualFit[]> {
  const layers = ae.shape.residLayers;
  if (!layers.length) return [];
  const d = ae.shape.dModel;
  const n = d + 1; // states plus a constant column (the bias)
  const A = new Float64Array(n * n);
  const Bs = new Map(layers.map((l) => [l, new Float64Array(n * d)]));
  for (let s = 0; s < fitRows.length; s += batch) {
    // Xᵀ·X and Xᵀ·R for X = [H, 1], by matMul per batch (float32 within a batch, float64 across batches).
    const { XtX, XtR } = await normalProducts(model, ae, fitRows.slice(s, s + batch), layers);
    XtX.forEach((v, i) => (A[i] += v));
    for (const l of layers) {
      const Bl = Bs.get(l)!;
      XtR.get(l)!.forEach((v, i) => (Bl[i] += v));
    }
  }
  // λ relative to the mean diagonal, so the ridge means the same for any scale of states.
  let trace = 0;
  for (let i = 0; i < n; i++) trace += A[i * n + i];
  for (const l of layers) {
    const X = solveRidge(A, Bs.get(l)!, n, d, (lambda * trace) / n);
    ae.params.get(`dec.resid${l}.W`)!.assign(tf.tensor2d(Float32Array.from(X.subarray(0, d * d)), [d, d]));
    ae.params.get(`dec.resid${l}.b`)!.assign(tf.tensor1d(Float32Array.from(X.subarray(d * d))));
  }
  return residualR2(model, ae, evalRows, batch);
}

/** R² of each residual head on rows: 1 − Σ(error²) / Σ(target − its mean)². */
export async function residualR2(model: GPT2, ae: SentenceAE, rows: readonly number[][], batch = 128): Promise<ResidualFit[]> {
  const layers = ae.shape.residLayers;
  const d = ae.shape.dModel;
  const sse = new Map(layers.map((l) => [l, 0]));
  const sum = new Map(layers.map((l) => [l, new Float64Array(d)]));
  const sumSq = new Map(layers.map((l) => [l, 0]));
  let count = 0;
  for (let s = 0; s < rows.length; s += batch) {
    const part = rows.slice(s, s + batch);
    const { R, n: N } = await statesAndTargets(model, ae, part, layers);
    const { T } = ae.shape;
    const { ids, lengths } = padRows(part, T, model.config.eosTokenId);
    for (const l of layers) {
      const predT = tf.tidy(() => tf.reshape(ae.head(ae.decode(ae.encode(model, tf.tensor2d(ids, [part.length, T], 'int32'), lengths)), `resid${l}`), [-1]));
      const pred = await predT.data();
      predT.dispose();
      const y = R.get(l)!;
      let e = 0;
      let q = 0;
      const m = sum.get(l)!;
      for (let i = 0; i < N * d; i++) {
        e += (pred[i] - y[i]) ** 2;
        q += y[i] * y[i];
        m[i % d] += y[i];
      }
      sse.set(l, sse.get(l)! + e);
      sumSq.set(l, sumSq.get(l)! + q);
    }
    count += N;
  }
  return layers.map((l) => {
    const m = sum.get(l)!;
    let meanSq = 0;
    for (let j = 0; j < d; j++) meanSq += (m[j] / count) ** 2;
    const sst = sumSq.get(l)! - count * meanSq;
    return { layer: l, r2: 1 - sse.get(l)! / sst };
  });
}
