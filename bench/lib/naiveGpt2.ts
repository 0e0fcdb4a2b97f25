// The reference the bench compares against: GPT-2 written the way a tfjs user would write it first — weights
// as plain tensors straight from the checkpoint, tf.matMul everywhere with tfjs's own autodiff, the tied
// unembedding as matMul(h, wte, false, true), attention scores as matMul(q, k, false, true), and the
// cross-entropy through tf.logSoftmax. Deliberately independent of src-main/model (only the
// config type is shared), so agreement with it also checks our key mapping and our custom gradients.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients; the union package registers them all. (Importing
// tfjs-core/dist/register_all_gradients.js directly works under vite but not under plain Node ESM / tsx.)
import '@tensorflow/tfjs';
import type { GPT2Config } from '../../src-main/model/config.js';
import type { RawTensor } from '../../src-main/model/safetensors.js';

export class NaiveGPT2 {
  private readonly w = new Map<string, tf.Tensor>();
  private readonly masks = new Map<number, tf.Tensor2D>();

  constructor(readonly config: GPT2Config, raw: Map<string, RawTensor>) {
    for (const [k, t] of raw) {
      const key = k.startsWith('transformer.') ? k.slice('transformer.'.length) : k;
      if (/^h\.\d+\.attn\.(bias|masked_bias)$/.test(key) || key === 'lm_head.weight') continue;
      this.w.set(key, tf.tensor(t.data, t.shape, 'float32'));
    }
  }

  private p(key: string): tf.Tensor {
    const t = this.w.get(key);
    if (!t) throw new Error(`NaiveGPT2: missing weight ${key}`);
    return t;
  }

  /** Rows of wte for token ids [B, T] → [B, T, d]. */
  embed(ids: tf.Tensor2D): tf.Tensor3D {
    return tf.gather(this.p('wte.weight'), ids) as tf.Tensor3D;
  }

  private layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const xhat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.config.layerNormEps)));
    return tf.add(tf.mul(xhat, this.p(prefix + '.weight')), this.p(prefix + '.bias'));
  }

  /** x [N, in] · W [in, out] + b. */
  private conv1d(x: tf.Tensor2D, prefix: string): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.p(prefix + '.weight') as tf.Tensor2D), this.p(prefix + '.bias')) as tf.Tensor2D;
  }

  private gelu(x: tf.Tensor): tf.Tensor {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  }

  private mask(T: number): tf.Tensor2D {
    let m = this.masks.get(T);
    if (!m) {
      // 0 on and below the diagonal, -1e9 above it.
      m = tf.keep(tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9) as tf.Tensor2D);
      this.masks.set(T, m);
    }
    return m;
  }

  /**
   * Forward from token embeddings [B, T, d] (before position embeddings). Returns the logits [B·T, V] and
   * the post-GELU MLP activations [B, T, dMlp] of every layer.
   */
  forward(embeds: tf.Tensor3D): { logits: tf.Tensor2D; mlpPost: tf.Tensor3D[] } {
    const { nLayer, nHead: H, dModel: d, dMlp, vocabSize: V } = this.config;
    const [B, T] = embeds.shape;
    const dh = d / H;
    const N = B * T;
    let x = tf.reshape(tf.add(embeds, tf.slice(this.p('wpe.weight'), [0, 0], [T, d])), [N, d]) as tf.Tensor2D; // [B·T, d]
    const mlpPost: tf.Tensor3D[] = [];
    const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]); // [B, H, T, dh]
    for (let l = 0; l < nLayer; l++) {
      const p = `h.${l}.`;
      const qkv = this.conv1d(this.layerNorm(x, p + 'ln_1') as tf.Tensor2D, p + 'attn.c_attn'); // [B·T, 3d]
      const [q, k, v] = tf.split(qkv, 3, 1);
      const scores = tf.add(tf.div(tf.matMul(heads(q), heads(k), false, true), Math.sqrt(dh)), this.mask(T)); // [B, H, T, T]
      const z = tf.matMul(tf.softmax(scores), heads(v)); // [B, H, T, dh]
      const merged = tf.reshape(tf.transpose(z, [0, 2, 1, 3]), [N, d]) as tf.Tensor2D;
      x = tf.add(x, this.conv1d(merged, p + 'attn.c_proj')) as tf.Tensor2D;
      const post = this.gelu(this.conv1d(this.layerNorm(x, p + 'ln_2') as tf.Tensor2D, p + 'mlp.c_fc')) as tf.Tensor2D; // [B·T, dMlp]
      mlpPost.push(tf.reshape(post, [B, T, dMlp]) as tf.Tensor3D);
      x = tf.add(x, this.conv1d(post, p + 'mlp.c_proj')) as tf.Tensor2D;
    }
    const hf = this.layerNorm(x, 'ln_f') as tf.Tensor2D;
    const logits = tf.matMul(hf, this.p('wte.weight') as tf.Tensor2D, false, true) as tf.Tensor2D; // [B·T, V]
    if (logits.shape[1] !== V) throw new Error('NaiveGPT2: vocabulary mismatch');
    return { logits, mlpPost };
  }

  /**
   * Mean next-token cross-entropy through tf.logSoftmax; weights [N] mask positions out with 0. The target
   * log-probabilities are picked with a one-hot product, as tf.losses.softmaxCrossEntropy does: picking them
   * with tf.gather fails on wasm, whose backend lacks UnsortedSegmentSum (gather's gradient) in tfjs 4.22.
   */
  static crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
    const V = logits.shape[1];
    const logp = tf.logSoftmax(logits); // [N, V]
    // oneHot stays int32 and is cast: the wasm OneHot kernel writes int32 bits even when asked for float32.
    const onehot = tf.cast(tf.oneHot(tf.cast(targets, 'int32') as tf.Tensor1D, V), 'float32');
    const picked = tf.sum(tf.mul(logp, onehot), 1); // [N]
    return tf.div(tf.neg(tf.sum(tf.mul(picked, weights))), tf.sum(weights)) as tf.Scalar;
  }

  dispose(): void {
    for (const t of this.w.values()) t.dispose();
    for (const m of this.masks.values()) m.dispose();
    this.w.clear();
    this.masks.clear();
  }
}
