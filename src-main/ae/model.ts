// The sentence autoencoder: sentence → k-dimensional z → a fixed-length sequence of the language model's input
// embeddings, token logits (tied to the model's frozen embedding rows) and, for chosen layers, the residual
// stream the model would carry there. Small bidirectional transformers on both sides; the model itself stays frozen.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { chunkedGather, gatherPerRow, geluNew, layerNorm, linearTrainable } from '../model/ops.js';

export interface AEShape {
  /** Latent size. */
  k: number;
  /** Fixed sequence length (sentences are padded with <|endoftext|>). */
  T: number;
  /** The language model's width (its embeddings are the encoder's input and the decoder's output space). */
  dModel: number;
  nHead: number;
  dMlp: number;
  encLayers: number;
  decLayers: number;
  /** Layers ℓ ≥ 1 whose residual stream (hook_resid_pre) the decoder also writes. */
  residLayers: number[];
  /**
   * Token logits from the predicted embedding f: 'dot' = s·f·E_v; 'distance' = −s·‖f − E_v‖² (every token reachable
   * as a nearest row, but slow to train: from a central f all rows are about equally far in high dimension).
   */
  logits: 'dot' | 'distance';
  /**
   * Encoder pooling: 'mean' over the sentence's positions, or 'flatten' (every position's state, padding zeroed,
   * through one linear map to z: the mirror of the decoder's expansion, and it keeps word order directly).
   */
  pool: 'mean' | 'flatten';
}

/** Blocks take activations [B, T, d]; a key mask [B, T] (1 = real token) hides padding from attention. */
interface BlockParams {
  ln1g: tf.Variable; ln1b: tf.Variable;
  attnW: tf.Variable; attnB: tf.Variable;
  outW: tf.Variable; outB: tf.Variable;
  ln2g: tf.Variable; ln2b: tf.Variable;
  fcW: tf.Variable; fcB: tf.Variable;
  projW: tf.Variable; projB: tf.Variable;
}

const LN_EPS = 1e-5;

function blockShapes(d: number, m: number): Record<keyof BlockParams, number[]> {
  return {
    ln1g: [d], ln1b: [d], attnW: [d, 3 * d], attnB: [3 * d], outW: [d, d], outB: [d],
    ln2g: [d], ln2b: [d], fcW: [d, m], fcB: [m], projW: [m, d], projB: [d],
  };
}

/** Every parameter's name and shape, in a fixed order (checkpoints and exports are keyed by these names). */
export function aeParamShapes(s: AEShape): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const d = s.dModel;
  out.set('enc.pos', [s.T, d]);
  for (const [side, n] of [['enc', s.encLayers], ['dec', s.decLayers]] as const) {
    for (let i = 0; i < n; i++) for (const [k, shape] of Object.entries(blockShapes(d, s.dMlp))) out.set(`${side}.${i}.${k}`, shape);
    out.set(`${side}.lnf.g`, [d]);
    out.set(`${side}.lnf.b`, [d]);
  }
  out.set('enc.z.W', [s.pool === 'flatten' ? s.T * d : d, s.k]);
  out.set('enc.z.b', [s.k]);
  out.set('dec.expand.W', [s.k, s.T * d]);
  out.set('dec.expand.b', [s.T * d]);
  for (const head of ['embed', 'logit', ...s.residLayers.map((l) => `resid${l}`)]) {
    out.set(`dec.${head}.W`, [d, d]);
    out.set(`dec.${head}.b`, [d]);
  }
  // log of the sharpness s in logits = −s·‖f − E_v‖² (+ a constant per row).
  out.set('dec.logit.logScale', [1]);
  return out;
}

/** Seeded initial values: N(0, 0.02) matrices (output projections scaled down), unit gains, zero biases. */
export function aeInitialValues(s: AEShape, seed: number): Map<string, Float32Array> {
  let state = seed >>> 0 || 1;
  const uniform = () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (((z ^ (z >>> 15)) >>> 0) + 0.5) / 2 ** 32;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of aeParamShapes(s)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    if (/ln\w*\.?g$|lnf\.g$/.test(name)) v.fill(1);
    // logScale stays 0 (s = 1); the logit head starts at the identity (features = the decoder's normalised state).
    else if (name.endsWith('W') || name === 'enc.pos') {
      // The latent expansion reads a √k-radius z: scale so each position starts at unit-ish size.
      const std = name === 'dec.expand.W' ? 1 / Math.sqrt(s.k) : /(outW|projW)$/.test(name) ? 0.02 / Math.sqrt(2 * Math.max(s.encLayers, s.decLayers)) : 0.02;
      for (let i = 0; i < n; i++) v[i] = normal() * std;
      if (name === 'dec.logit.W') for (let i = 0; i < s.dModel; i++) v[i * s.dModel + i] += 1;
    }
    out.set(name, v);
  }
  return out;
}

export class SentenceAE {
  readonly params = new Map<string, tf.Variable>();
  /**
   * The tokens the decoder may emit, sorted; null = the whole vocabulary. Training only ever pushes down the logits
   * of tokens in its candidate set, so a token no training sentence contains (e.g. "\n", which sentence splitting
   * removes) keeps whatever logit its embedding happens to give and can win the argmax: decode over the training
   * vocabulary instead (AE_CARD.md). Set with restrictVocabulary, which also drops the columns built for the old one.
   */
  get vocabulary(): Int32Array | null {
    return this.decodingIds;
  }
  private decodingIds: Int32Array | null = null;
  /** The vocabulary's augmented columns and ids, built on first use for one model. */
  private restricted: { model: GPT2; cols: tf.Tensor2D[]; ids: tf.Tensor1D } | null = null;

  constructor(readonly shape: AEShape, values: Map<string, Float32Array>, trainable = true) {
    for (const [name, dims] of aeParamShapes(shape)) {
      const v = values.get(name);
      if (!v) throw new Error(`autoencoder weights lack "${name}": the file is incomplete or from another version; train it again with textdream train-ae`);
      if (v.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`autoencoder weight "${name}" has ${v.length} values, expected shape [${dims}]: the file does not match its ae.json`);
      this.params.set(name, tf.variable(tf.tensor(v, dims), trainable));
    }
  }

  private p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  private block(side: 'enc' | 'dec', i: number, x: tf.Tensor3D, keyBias: tf.Tensor | null): tf.Tensor3D {
    const [B, T, d] = x.shape;
    const H = this.shape.nHead;
    const dh = d / H;
    const q = (k: keyof BlockParams) => this.p(`${side}.${i}.${k}`);
    const lin = (t: tf.Tensor, W: tf.Variable, b: tf.Variable, out: number) =>
      tf.reshape(linearTrainable(tf.reshape(t, [B * T, -1]) as tf.Tensor2D, W as tf.Tensor2D, b as tf.Tensor1D), [B, T, out]) as tf.Tensor3D;
    const h1 = layerNorm(x, q('ln1g') as tf.Tensor1D, q('ln1b') as tf.Tensor1D, LN_EPS);
    const [qq, kk, vv] = tf.split(lin(h1, q('attnW'), q('attnB'), 3 * d), 3, 2);
    const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]), [B * H, T, dh]) as tf.Tensor3D;
    // Kᵀ formed explicitly: transposed batched matMul is the slow path on wasm.
    let scores = tf.mul(tf.matMul(heads(qq), tf.transpose(heads(kk), [0, 2, 1]) as tf.Tensor3D), 1 / Math.sqrt(dh));
    if (keyBias) scores = tf.add(scores, keyBias);
    const z = tf.matMul(tf.softmax(scores, -1) as tf.Tensor3D, heads(vv));
    const attn = lin(tf.reshape(tf.transpose(tf.reshape(z, [B, H, T, dh]), [0, 2, 1, 3]), [B, T, d]), q('outW'), q('outB'), d);
    const mid = tf.add(x, attn);
    const h2 = layerNorm(mid, q('ln2g') as tf.Tensor1D, q('ln2b') as tf.Tensor1D, LN_EPS);
    const mlp = lin(geluNew(lin(h2, q('fcW'), q('fcB'), this.shape.dMlp)), q('projW'), q('projB'), d);
    return tf.add(mid, mlp) as tf.Tensor3D;
  }

  /** z means μ [B, k] of token rows ids [B, T] (int32) whose first lengths[b] positions are the sentence. */
  encode(model: GPT2, ids: tf.Tensor2D, lengths: number[]): tf.Tensor2D {
    return this.encodeEmbeddings(model.embed(ids), lengths);
  }

  /** encode() from the rows' token embeddings [B, T, d] (the model's, frozen). */
  encodeEmbeddings(tokens: tf.Tensor3D, lengths: number[]): tf.Tensor2D {
    const { T, encLayers, nHead } = this.shape;
    const B = tokens.shape[0];
    const maskData = new Float32Array(B * T);
    lengths.forEach((n, b) => maskData.fill(1, b * T, b * T + Math.max(1, Math.min(n, T))));
    const mask = tf.tensor2d(maskData, [B, T]);
    // [B·H, 1, T]: a large negative bias on padding keys.
    const keyBias = tf.reshape(tf.tile(tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [B, 1, 1, T]), [1, nHead, 1, 1]), [B * nHead, 1, T]);
    let x = tf.add(tokens, this.p('enc.pos')) as tf.Tensor3D;
    for (let i = 0; i < encLayers; i++) x = this.block('enc', i, x, keyBias);
    x = layerNorm(x, this.p('enc.lnf.g') as tf.Tensor1D, this.p('enc.lnf.b') as tf.Tensor1D, LN_EPS) as tf.Tensor3D;
    const masked = tf.mul(x, tf.expandDims(mask, 2));
    const pooled = (
      this.shape.pool === 'flatten' ? tf.reshape(masked, [B, -1]) : tf.div(tf.sum(masked, 1), tf.expandDims(tf.sum(mask, 1), 1))
    ) as tf.Tensor2D;
    return linearTrainable(pooled, this.p('enc.z.W') as tf.Tensor2D, this.p('enc.z.b') as tf.Tensor1D);
  }

  /** z on the sphere of radius √k: the decoder only ever reads directions, so the latent has a fixed scale. */
  normalize(z: tf.Tensor2D): tf.Tensor2D {
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(z), 1, true), 1e-8));
    return tf.mul(tf.div(z, norm), Math.sqrt(this.shape.k)) as tf.Tensor2D;
  }

  /** The decoder's last hidden states [B, T, d] for latents z [B, k] (normalised first). */
  decode(z: tf.Tensor2D): tf.Tensor3D {
    const { T, dModel: d, decLayers } = this.shape;
    const B = z.shape[0];
    const u = this.normalize(z);
    let x = tf.reshape(linearTrainable(u, this.p('dec.expand.W') as tf.Tensor2D, this.p('dec.expand.b') as tf.Tensor1D), [B, T, d]) as tf.Tensor3D;
    for (let i = 0; i < decLayers; i++) x = this.block('dec', i, x, null);
    return layerNorm(x, this.p('dec.lnf.g') as tf.Tensor1D, this.p('dec.lnf.b') as tf.Tensor1D, LN_EPS) as tf.Tensor3D;
  }

  /** The query whose dot product with the augmented rows [E_v, ‖E_v‖²] (augmentedVocab) gives the logits. */
  logitQuery(f: tf.Tensor2D): tf.Tensor2D {
    const s = tf.exp(this.p('dec.logit.logScale'));
    const dist = this.shape.logits === 'distance';
    return tf.concat([tf.mul(f, dist ? tf.mul(s, 2) : s), tf.mul(tf.onesLike(tf.slice(f, [0, 0], [-1, 1])), dist ? tf.neg(s) : 0)], 1) as tf.Tensor2D;
  }

  /** Decode only into `ids` (deduplicated, sorted), or into the whole vocabulary (null). */
  restrictVocabulary(ids: ArrayLike<number> | null): void {
    this.disposeRestricted();
    this.decodingIds = ids ? Int32Array.from(new Set(Array.from(ids))).sort() : null;
  }

  /** The columns the logits are computed against, chunk by chunk, and the token id of each column (null: the column index). */
  private decodingColumns(model: GPT2): { cols: tf.Tensor2D[]; ids: tf.Tensor1D | null } {
    const vocab = this.decodingIds;
    if (!vocab) return { cols: augmentedVocab(model).cols, ids: null };
    if (this.restricted?.model !== model) {
      this.disposeRestricted();
      const chunks = vocabRows(model);
      const chunk = chunks[0].shape[0];
      // Kept: built inside the caller's tidy scope, used until dispose().
      const ids = tf.keep(tf.tensor1d(vocab, 'int32'));
      const cols: tf.Tensor2D[] = [];
      for (let s = 0; s < vocab.length; s += chunk) {
        const part = vocab.subarray(s, Math.min(vocab.length, s + chunk));
        cols.push(tf.keep(tf.tidy(() => tf.transpose(augmentRows(chunkedGather(chunks, tf.tensor1d(part, 'int32')))) as tf.Tensor2D)));
      }
      this.restricted = { model, cols, ids };
    }
    return this.restricted;
  }

  private disposeRestricted(): void {
    if (this.restricted) tf.dispose([this.restricted.ids, ...this.restricted.cols]);
    this.restricted = null;
  }

  /** The decoded token at each logit-head point f [N, d]: the argmax of the logits over the decoding vocabulary. */
  tokensAt(model: GPT2, f: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const { cols, ids } = this.decodingColumns(model);
      const at = argmaxRows(cols, this.logitQuery(f));
      return ids ? (tf.gather(ids, at) as tf.Tensor1D) : at;
    });
  }

  /** The K highest-scoring tokens at each logit-head point f [N, d] and their logits (unnormalised), best first. */
  topTokensAt(model: GPT2, f: tf.Tensor2D, K: number): { ids: tf.Tensor2D; logits: tf.Tensor2D } {
    return tf.tidy(() => {
      const q = this.logitQuery(f);
      // Top K of each vocabulary chunk, then of their union: never a [N, V] tensor.
      let start = 0;
      const ids: tf.Tensor2D[] = [];
      const vals: tf.Tensor2D[] = [];
      const vocab = this.decodingColumns(model);
      for (const c of vocab.cols) {
        const top = tf.topk(tf.matMul(q, c), Math.min(K, c.shape[1]));
        vals.push(top.values as tf.Tensor2D);
        ids.push(tf.add(top.indices, tf.scalar(start, 'int32')) as tf.Tensor2D);
        start += c.shape[1];
      }
      const best = tf.topk(tf.concat(vals, 1), K);
      const columns = gatherPerRow(tf.concat(ids, 1) as tf.Tensor2D, best.indices as tf.Tensor2D);
      const tokenIds = vocab.ids ? (tf.reshape(tf.gather(vocab.ids, tf.reshape(columns, [-1])), columns.shape) as tf.Tensor2D) : columns;
      return { ids: tokenIds, logits: best.values as tf.Tensor2D };
    });
  }

  /** A head of the decoder: 'embed' (input embeddings), 'logit' (the point f the token logits are computed from), 'residℓ'. */
  head(h: tf.Tensor3D, name: string): tf.Tensor3D {
    const [B, T, d] = h.shape;
    const W = this.params.get(`dec.${name}.W`);
    if (!W) throw new Error(`this autoencoder has no "${name}" head (it writes ${['embed', 'logit', ...this.shape.residLayers.map((l) => `resid${l}`)].join(', ')})`);
    return tf.reshape(linearTrainable(tf.reshape(h, [B * T, d]) as tf.Tensor2D, W as tf.Tensor2D, this.p(`dec.${name}.b`) as tf.Tensor1D), [B, T, d]) as tf.Tensor3D;
  }

  variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  async values(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.params) out.set(name, (await v.data()) as Float32Array);
    return out;
  }

  dispose(): void {
    this.disposeRestricted();
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/** The embedding matrix's row chunks (frozen, tied): logits and nearest tokens are computed chunk by chunk. */
export function vocabRows(model: GPT2): tf.Tensor2D[] {
  const u = model.weights.unembed;
  if (!u.ETChunks) throw new Error('the sentence autoencoder needs a frozen model (load it for inference, not training)');
  return u.EChunks ?? [u.E];
}

/** Rows [E_v, ‖E_v‖²] [n, d+1]: with distanceQuery, a dot product gives −s·‖f − E_v‖² up to a per-row constant. */
export function augmentRows(E: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.concat([E, tf.sum(tf.square(E), 1, true)], 1) as tf.Tensor2D);
}

/** The whole vocabulary's augmented rows and their transposes, by chunk, kept with the model (released with it). */
export function augmentedVocab(model: GPT2): { rows: tf.Tensor2D[]; cols: tf.Tensor2D[] } {
  return model.derived('augmented-vocab', () => {
    const rows = vocabRows(model).map((r) => augmentRows(r));
    return { rows, cols: rows.map((r) => tf.transpose(r) as tf.Tensor2D) };
  });
}

/** argmax over the vocabulary of q·colsᵀ, chunk by chunk (never a [N, V] tensor) → int32 [N]. */
function argmaxRows(cols: tf.Tensor2D[], q: tf.Tensor2D): tf.Tensor1D {
  let best: tf.Tensor1D | null = null;
  let arg: tf.Tensor1D | null = null;
  let start = 0;
  for (const c of cols) {
    const scores = tf.matMul(q, c);
    const m = tf.max(scores, 1) as tf.Tensor1D;
    const a = tf.add(tf.cast(tf.argMax(scores, 1), 'float32'), start) as tf.Tensor1D;
    if (!best) {
      best = m;
      arg = a;
    } else {
      arg = tf.where(tf.greater(m, best), a, arg!) as tf.Tensor1D;
      best = tf.maximum(m, best) as tf.Tensor1D;
    }
    start += c.shape[1];
  }
  return tf.cast(arg!, 'int32') as tf.Tensor1D;
}
