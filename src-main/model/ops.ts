// Tensor ops shaped for the wasm backend. Two measured facts drive them (README, Backends):
// matMul with transposeA/transposeB is ~8-10x slower on wasm than a plain matMul, and log-softmax over
// 50,257 logits dominates a step. So linear layers carry custom gradients built only from plain matMuls,
// and the cross-entropy is fused with a custom gradient.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients; the union package's bundle registers them all (~0.25 s).
import '@tensorflow/tfjs';

interface GradResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}
/** tf.customGrad with the argument list typed as we use it (tfjs types the inputs as Tensor | GradSaveFunc). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const customGrad = (f: (...args: any[]) => GradResult) => tf.customGrad(f as never) as (...inputs: tf.Tensor[]) => tf.Tensor;

/** A linear layer y = x·W + b in Hugging Face Conv1D layout (W is [in, out]). */
export interface Linear {
  W: tf.Tensor2D; // [in, out]
  b: tf.Tensor1D; // [out]
  /** Wᵀ kept beside W when the weights are frozen, so the backward pass is a plain matMul. */
  WT?: tf.Tensor2D; // [out, in]
}

/** x [N, in] → [N, out]. Frozen weights: gradient flows to x only, through the cached Wᵀ. */
export function linear(x: tf.Tensor2D, l: Linear): tf.Tensor2D {
  if (l.WT) {
    const WT = l.WT;
    const f = customGrad((xi: tf.Tensor, save: tf.GradSaveFunc) => {
      save([]);
      return {
        value: tf.add(tf.matMul(xi as tf.Tensor2D, l.W), l.b),
        gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, WT),
      };
    });
    return f(x) as tf.Tensor2D;
  }
  return linearTrainable(x, l.W, l.b);
}

/** Trainable linear: gradients for x, W and b, each a plain matMul after an explicit (cheap) transpose. */
export function linearTrainable(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const f = customGrad((xi: tf.Tensor, Wi: tf.Tensor, bi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi, Wi]);
    return {
      value: tf.add(tf.matMul(xi as tf.Tensor2D, Wi as tf.Tensor2D), bi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, Ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dy2 = dy as tf.Tensor2D;
        return [
          tf.matMul(dy2, tf.transpose(Ws)), // [N, out]·[out, in]
          tf.matMul(tf.transpose(xs), dy2), // [in, N]·[N, out]
          tf.sum(dy2, 0),
        ];
      },
    };
  });
  return f(x, W, b) as tf.Tensor2D;
}

/**
 * The unembedding h·Eᵀ with E = wte [V, d]. Frozen: E and Eᵀ chunks over the vocabulary are cached (plain
 * matMuls; smaller right-hand sides are also faster on wasm). Trainable: E is an input and gets its gradient.
 */
export interface Unembedding {
  E: tf.Tensor2D; // [V, d]
  /** Eᵀ split by vocabulary chunk, for frozen weights. */
  ETChunks?: tf.Tensor2D[]; // each [d, Vc]
  /** E split by the same chunks (rows), for the chunked input gradient. */
  EChunks?: tf.Tensor2D[]; // each [Vc, d]
  /** Vocabulary chunk of the trainable path (default VOCAB_CHUNK). */
  chunk?: number;
}

export function unembed(h: tf.Tensor2D, u: Unembedding): tf.Tensor2D {
  if (u.ETChunks) {
    const chunks = u.ETChunks;
    const rows = u.EChunks;
    const E = u.E;
    const f = customGrad((hi: tf.Tensor, save: tf.GradSaveFunc) => {
      save([]);
      const parts = chunks.map((c) => tf.matMul(hi as tf.Tensor2D, c));
      return {
        value: parts.length === 1 ? parts[0] : tf.concat(parts, 1),
        // dh = dy·E, summed over vocabulary chunks: ~30% faster on wasm than one [N, V]·[V, d] matMul.
        gradFunc: (dy: tf.Tensor) => (rows ? chunkedRowProduct(dy as tf.Tensor2D, rows) : tf.matMul(dy as tf.Tensor2D, E)),
      };
    });
    return f(h) as tf.Tensor2D;
  }
  const f = customGrad((hi: tf.Tensor, Ei: tf.Tensor, save: tf.GradSaveFunc) => {
    save([hi, Ei]);
    const chunk = u.chunk ?? VOCAB_CHUNK;
    const Er = splitRows(Ei as tf.Tensor2D, chunk);
    const parts = Er.map((c) => tf.matMul(hi as tf.Tensor2D, tf.transpose(c)));
    return {
      value: parts.length === 1 ? parts[0] : tf.concat(parts, 1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [hs, Es] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dy2 = dy as tf.Tensor2D;
        const rowsE = splitRows(Es, chunk);
        const hT = tf.transpose(hs);
        // dE = dyᵀ·h, per chunk as (hᵀ·dy_c)ᵀ: transposing [d, Vc] is cheaper than transposing dy.
        let start = 0;
        const dE = rowsE.map((c) => {
          const Vc = c.shape[0];
          const g = tf.transpose(tf.matMul(hT, tf.slice(dy2, [0, start], [-1, Vc])));
          start += Vc;
          return g;
        });
        return [chunkedRowProduct(dy2, rowsE), dE.length === 1 ? dE[0] : tf.concat(dE, 0)];
      },
    };
  });
  return f(h, u.E) as tf.Tensor2D;
}

/** Vocabulary chunk for projections: fastest of 2048-50257 on wasm (bench/forward-backward.ts). */
export const VOCAB_CHUNK = 8192;

/** VOCAB_CHUNK, made smaller when a [chunk, d] F32 matrix would not fit one GPU storage binding. */
export function vocabChunkFor(d: number, maxBindingBytes?: number): number {
  if (!maxBindingBytes) return VOCAB_CHUNK;
  return Math.max(1, Math.min(VOCAB_CHUNK, Math.floor(maxBindingBytes / (4 * d))));
}

/** Σ_c dy[:, c]·E_c over row chunks E_c of E. */
function chunkedRowProduct(dy: tf.Tensor2D, rows: tf.Tensor2D[]): tf.Tensor2D {
  let start = 0;
  const parts = rows.map((c) => {
    const Vc = c.shape[0];
    const p = tf.matMul(tf.slice(dy, [0, start], [-1, Vc]), c);
    start += Vc;
    return p;
  });
  return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Tensor2D;
}

/**
 * out[n, j] = x[n, idx[n, j]] for x [N, C] and int32 idx [N, K], as one flat gather: tf.gather with batchDims
 * reads out of bounds on the wasm backend (tfjs 4.22, float32, N > ~3).
 */
export function gatherPerRow(x: tf.Tensor2D, idx: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [N, C] = x.shape;
    const offsets = tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(C, 'int32')).reshape([N, 1]);
    return tf.reshape(tf.gather(tf.reshape(x, [-1]), tf.reshape(tf.add(idx, offsets), [-1])), idx.shape) as tf.Tensor2D;
  });
}

/**
 * Rows `ids` of a matrix held as consecutive row chunks, without ever binding the whole matrix: on WebGPU a
 * vocabulary matrix can exceed the storage-binding limit (GPT-2's 50,257 × 768 F32 is 154 MB > 128 MiB).
 */
export function chunkedGather(chunks: tf.Tensor2D[], ids: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    // Index arithmetic in float32 (exact below 2²⁴): tfjs-wasm's ClipByValue ignores the upper bound on int32.
    const idx = tf.cast(ids, 'float32');
    let start = 0;
    const parts = chunks.map((c) => {
      const n = c.shape[0];
      const local = tf.sub(idx, start);
      const inside = tf.logicalAnd(tf.greaterEqual(local, 0), tf.less(local, n));
      const rows = tf.gather(c, tf.cast(tf.clipByValue(local, 0, n - 1), 'int32') as tf.Tensor1D);
      start += n;
      return tf.mul(rows, tf.expandDims(tf.cast(inside, 'float32'), 1));
    });
    return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Tensor2D;
  });
}

export function splitRows(E: tf.Tensor2D, chunk: number): tf.Tensor2D[] {
  const V = E.shape[0];
  if (V <= chunk) return [E];
  const out: tf.Tensor2D[] = [];
  for (let s = 0; s < V; s += chunk) out.push(tf.slice(E, [s, 0], [Math.min(chunk, V - s), -1]));
  return out;
}

/**
 * Rows of E [V, d] for ids [N]. Its gradient is a scatter-add into [V, d]: wasm has no UnsortedSegmentSum,
 * the kernel tf.gather's own gradient needs, but ScatterNd (which sums duplicate indices) is there.
 */
export function embeddingLookup(E: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const f = customGrad((Ei: tf.Tensor, save: tf.GradSaveFunc) => {
    save([ids]);
    return {
      value: tf.gather(Ei, ids),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.scatterND(tf.reshape(saved[0], [-1, 1]), dy, (Ei as tf.Tensor2D).shape),
    };
  });
  return f(E) as tf.Tensor2D;
}

const GELU_C = Math.sqrt(2 / Math.PI);
/** GPT-2's gelu_new (tanh approximation). */
// 0.5·x·(1 + tanh(u)) = x·σ(2u) exactly; sigmoid is ~10× faster than tanh on wasm.
export function geluNew(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const u2 = tf.mul(2 * GELU_C, tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))));
    return tf.mul(x, tf.sigmoid(u2));
  });
}

export function layerNorm(x: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const xc = tf.sub(x, mean);
    const variance = tf.mean(tf.square(xc), -1, true);
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), g), b);
  });
}

/** Per-row log-sum-exp over the last axis, numerically stable. [N, V] → [N]. */
function logSumExp(logits: tf.Tensor2D): { lse: tf.Tensor1D; probs: tf.Tensor2D } {
  const m = tf.max(logits, -1, true);
  const e = tf.exp(tf.sub(logits, m));
  const s = tf.sum(e, -1, true);
  return { lse: tf.reshape(tf.add(tf.log(s), m), [-1]) as tf.Tensor1D, probs: tf.div(e, s) as tf.Tensor2D };
}

function pickTargets(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [N, V] = logits.shape;
  const flatIdx = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), tf.cast(targets, 'int32'));
  return tf.gather(tf.reshape(logits, [-1]), flatIdx) as tf.Tensor1D;
}

/**
 * Per-token next-token cross-entropy in nats, fused: one pass for the softmax, and a gradient
 * (softmax − onehot)·dy without ever materialising log-probabilities. logits [N, V], targets int32 [N].
 */
export function tokenCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const f = customGrad((li: tf.Tensor, save: tf.GradSaveFunc) => {
    const { lse, probs } = logSumExp(li as tf.Tensor2D);
    // targets is saved too: tensors captured by closure are not kept alive for the backward pass.
    save([probs, targets]);
    return {
      value: tf.sub(lse, pickTargets(li as tf.Tensor2D, targets)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [p, tg] = saved as [tf.Tensor2D, tf.Tensor1D];
        // tfjs-wasm's OneHot writes int32 bit patterns even when asked for float32 (1 → 1.4e-45): build
        // it as int32 and cast.
        const onehot = tf.cast(tf.oneHot(tf.cast(tg, 'int32') as tf.Tensor1D, p.shape[1]), 'float32');
        return tf.mul(tf.sub(p, onehot), tf.reshape(dy, [-1, 1]));
      },
    };
  });
  return f(logits) as tf.Tensor1D;
}

/** Mean of tokenCrossEntropy, optionally weighted per token (0 masks a position out). */
export function meanCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights?: tf.Tensor1D): tf.Scalar {
  const ce = tokenCrossEntropy(logits, targets);
  if (!weights) return tf.mean(ce);
  return tf.div(tf.sum(tf.mul(ce, weights)), tf.maximum(tf.sum(weights), 1e-8));
}

/**
 * The softmax of h·Eᵀ by vocabulary chunk (cols: Eᵀ's chunks, each [d, Vc]), never assembling [N, V]: each row's
 * largest logit m [N, 1], the exponentials e = exp(logits − m) per chunk and their row sums s [N, 1]; log-sum-exp is
 * log(s) + m.
 */
function chunkedSoftmaxParts(h: tf.Tensor2D, cols: tf.Tensor2D[]): { m: tf.Tensor; e: tf.Tensor2D[]; s: tf.Tensor } {
  const logits = cols.map((c) => tf.matMul(h, c));
  const m = logits.map((l) => tf.max(l, -1, true)).reduce((a, b) => tf.maximum(a, b));
  const e = logits.map((l) => tf.exp(tf.sub(l, m))) as tf.Tensor2D[];
  const s = e.length === 1 ? tf.sum(e[0], -1, true) : tf.addN(e.map((x) => tf.sum(x, -1, true)));
  return { m, e, s };
}

/**
 * Next-token losses of pairs (row of h, target token) in nats [N], forward only: one log-sum-exp over the vocabulary
 * per row of h (the pass that streams E), one dot product per pair, so pairs that share a state (candidates edited at
 * the same position of the same text) share its pass. loss = logsumexp(h·Eᵀ) − h·E[target]. h [U, d], rows and
 * targets int32 [N].
 */
export function unembedPairLosses(h: tf.Tensor2D, u: Unembedding, rows: tf.Tensor1D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const cols = u.ETChunks ?? splitRows(u.E, u.chunk ?? VOCAB_CHUNK).map((r) => tf.transpose(r) as tf.Tensor2D);
    const { m, s } = chunkedSoftmaxParts(h, cols);
    const lse = tf.reshape(tf.add(tf.log(s), m), [-1]);
    const ids = tf.cast(targets, 'int32') as tf.Tensor1D;
    const targetRows = u.EChunks ? chunkedGather(u.EChunks, ids) : tf.gather(u.E, ids);
    return tf.sub(tf.gather(lse, rows), tf.sum(tf.mul(tf.gather(h, rows), targetRows), -1)) as tf.Tensor1D;
  });
}

/**
 * Next-token cross-entropy of h·Eᵀ in nats [N], fused with the unembedding and chunked over the vocabulary:
 * neither the [N, V] logits nor their gradient is ever assembled, so no column slice of a [N, V] tensor and no
 * one-hot is built (each cost as much as a matMul on wasm). Gradients for h and, when E is trainable, for E.
 * h [N, d], targets int32 [N].
 */
export function unembedCrossEntropy(h: tf.Tensor2D, u: Unembedding, targets: tf.Tensor1D): tf.Tensor1D {
  const frozen = u.ETChunks !== undefined;
  const chunk = u.chunk ?? VOCAB_CHUNK;
  const ids = tf.cast(targets, 'int32') as tf.Tensor1D;
  const forward = (hi: tf.Tensor2D, E: tf.Tensor2D) => {
    const rows = frozen ? u.EChunks ?? splitRows(E, chunk) : splitRows(E, chunk);
    const cols = frozen ? u.ETChunks! : rows.map((r) => tf.transpose(r));
    const { m, e, s } = chunkedSoftmaxParts(hi, cols);
    const targetRows = (frozen && u.EChunks ? chunkedGather(u.EChunks, ids) : tf.gather(E, ids)) as tf.Tensor2D;
    const value = tf.sub(tf.reshape(tf.add(tf.log(s), m), [-1]), tf.sum(tf.mul(hi, targetRows), -1)) as tf.Tensor1D;
    return { rows, e, s, targetRows, value };
  };
  // dlogits = softmax·dy − onehot·dy, applied chunk by chunk; the one-hot part is a row gather/scatter.
  const backward = (dy: tf.Tensor, rows: tf.Tensor2D[], e: tf.Tensor2D[], s: tf.Tensor, targetRows: tf.Tensor2D) => {
    const w = tf.div(tf.reshape(dy, [-1, 1]), s); // [N, 1]
    const g = e.map((x) => tf.mul(x, w)) as tf.Tensor2D[];
    const dyCol = tf.reshape(dy, [-1, 1]);
    const parts = g.map((gc, i) => tf.matMul(gc, rows[i]));
    const dh = tf.sub(parts.length === 1 ? parts[0] : tf.addN(parts), tf.mul(targetRows, dyCol)) as tf.Tensor2D;
    return { g, dyCol, dh };
  };
  if (frozen) {
    const f = customGrad((hi: tf.Tensor, save: tf.GradSaveFunc) => {
      const r = forward(hi as tf.Tensor2D, u.E);
      save([r.s, r.targetRows, ...r.e]);
      return {
        value: r.value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [s, targetRows, ...e] = saved as tf.Tensor2D[];
          const rows = u.EChunks ?? splitRows(u.E, chunk);
          return backward(dy, rows, e, s, targetRows).dh;
        },
      };
    });
    return f(h) as tf.Tensor1D;
  }
  const f = customGrad((hi: tf.Tensor, Ei: tf.Tensor, save: tf.GradSaveFunc) => {
    const r = forward(hi as tf.Tensor2D, Ei as tf.Tensor2D);
    save([hi, r.s, r.targetRows, ids, ...r.e, ...r.rows]);
    return {
      value: r.value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [hs, s, targetRows, idsS] = saved.slice(0, 4) as tf.Tensor2D[];
        const n = (saved.length - 4) / 2;
        const e = saved.slice(4, 4 + n) as tf.Tensor2D[];
        const rows = saved.slice(4 + n) as tf.Tensor2D[];
        const { g, dyCol, dh } = backward(dy, rows, e, s, targetRows);
        // dE_c = g_cᵀ·h, computed as (hᵀ·g_c)ᵀ: a plain matMul and a small transpose (transposeA is ~10× slower).
        const hT = tf.transpose(hs);
        const dEc = g.map((gc) => tf.transpose(tf.matMul(hT, gc)));
        const dESoft = dEc.length === 1 ? dEc[0] : tf.concat(dEc, 0);
        const V = (Ei as tf.Tensor2D).shape;
        const dE = tf.sub(dESoft, tf.scatterND(tf.reshape(idsS, [-1, 1]), tf.mul(hs, dyCol), V));
        return [dh, dE];
      },
    };
  });
  return f(h, u.E) as tf.Tensor1D;
}
