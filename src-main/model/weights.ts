// GPT-2 weights: a name-for-name copy of the Hugging Face checkpoint keys, checked key by key and shape by shape.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2Config } from './config.js';
import { ModelFileError } from './errors.js';
import { backendInfo } from '../backend.js';
import { vocabChunkFor, type Linear, type Unembedding } from './ops.js';
import type { RawTensor } from './safetensors.js';

export interface Norm {
  g: tf.Tensor1D;
  b: tf.Tensor1D;
}
export interface BlockWeights {
  ln1: Norm;
  attn: Linear; // c_attn [d, 3d]
  attnOut: Linear; // attn.c_proj [d, d]
  ln2: Norm;
  fc: Linear; // mlp.c_fc [d, dMlp]
  proj: Linear; // mlp.c_proj [dMlp, d]
}
export interface GPT2Weights {
  wte: tf.Tensor2D; // [V, d]
  wpe: tf.Tensor2D; // [P, d]
  blocks: BlockWeights[];
  lnf: Norm;
  unembed: Unembedding;
}

/** Old checkpoints store the causal mask as buffers; they are not weights. */
export const isBufferKey = (k: string): boolean => /^h\.\d+\.attn\.(bias|masked_bias)$/.test(k);

/** The checkpoint keys we expect, with their shapes, in HF order (without the `transformer.` prefix). */
export function expectedKeys(c: GPT2Config): Map<string, number[]> {
  const d = c.dModel;
  const m = new Map<string, number[]>([
    ['wte.weight', [c.vocabSize, d]],
    ['wpe.weight', [c.nPositions, d]],
  ]);
  for (let l = 0; l < c.nLayer; l++) {
    const p = `h.${l}.`;
    m.set(p + 'ln_1.weight', [d]).set(p + 'ln_1.bias', [d]);
    m.set(p + 'attn.c_attn.weight', [d, 3 * d]).set(p + 'attn.c_attn.bias', [3 * d]);
    m.set(p + 'attn.c_proj.weight', [d, d]).set(p + 'attn.c_proj.bias', [d]);
    m.set(p + 'ln_2.weight', [d]).set(p + 'ln_2.bias', [d]);
    m.set(p + 'mlp.c_fc.weight', [d, c.dMlp]).set(p + 'mlp.c_fc.bias', [c.dMlp]);
    m.set(p + 'mlp.c_proj.weight', [c.dMlp, d]).set(p + 'mlp.c_proj.bias', [d]);
  }
  m.set('ln_f.weight', [d]).set('ln_f.bias', [d]);
  return m;
}

export interface WeightOptions {
  /** Frozen weights cache transposes for fast input gradients; trainable ones become tf.Variables. */
  trainable?: boolean;
  /** Vocabulary chunk for the cached unembedding (smaller chunks are faster on wasm and fit GPU bindings). */
  vocabChunk?: number;
}

/** Normalise keys (`transformer.` prefix), drop mask buffers, and check every key and shape. */
export function checkCheckpoint(raw: Map<string, RawTensor>, c: GPT2Config, label: string): { byKey: Map<string, RawTensor>; unexpected: string[] } {
  const byKey = new Map<string, RawTensor>();
  const unexpected: string[] = [];
  const expected = expectedKeys(c);
  for (const [k, t] of raw) {
    const key = k.startsWith('transformer.') ? k.slice('transformer.'.length) : k;
    if (isBufferKey(key)) continue;
    if (expected.has(key) || key === 'lm_head.weight') byKey.set(key, t);
    else unexpected.push(k);
  }
  const missing = [...expected.keys()].filter((k) => !byKey.has(k));
  if (missing.length) {
    throw new ModelFileError(
      `missing ${missing.length} tensor(s) for a ${c.nLayer}-layer GPT-2, e.g. ${missing.slice(0, 4).join(', ')}`,
      label,
      'check that config.json (n_layer, n_embd) belongs to this checkpoint',
    );
  }
  for (const [k, shape] of expected) {
    const got = byKey.get(k)!.shape;
    if (got.join(',') !== shape.join(',')) {
      throw new ModelFileError(
        `tensor ${k} has shape [${got}] but config.json implies [${shape}]`,
        label,
        'check that config.json belongs to this checkpoint',
      );
    }
  }
  const lm = byKey.get('lm_head.weight');
  if (lm && lm.shape.join(',') !== `${c.vocabSize},${c.dModel}`) {
    throw new ModelFileError(`lm_head.weight has shape [${lm.shape}], expected [${c.vocabSize},${c.dModel}]`, label, 'check the checkpoint');
  }
  return { byKey, unexpected };
}

let variableSerial = 0;

export function buildWeights(byKey: Map<string, RawTensor>, c: GPT2Config, opts: WeightOptions = {}): GPT2Weights {
  const trainable = opts.trainable ?? false;
  const mk = (key: string): tf.Tensor => {
    const r = byKey.get(key)!;
    const t = tf.tensor(r.data, r.shape, 'float32');
    if (!trainable) return t;
    // Variable names are global in tfjs: suffix a counter so several models can train in one process.
    const v = tf.variable(t, true, `${key}#${++variableSerial}`);
    t.dispose();
    return v;
  };
  const lin = (p: string): Linear => {
    const W = mk(p + '.weight') as tf.Tensor2D;
    const b = mk(p + '.bias') as tf.Tensor1D;
    return trainable ? { W, b } : { W, b, WT: tf.transpose(W) };
  };
  const norm = (p: string): Norm => ({ g: mk(p + '.weight') as tf.Tensor1D, b: mk(p + '.bias') as tf.Tensor1D });
  const wte = mk('wte.weight') as tf.Tensor2D;
  const blocks: BlockWeights[] = [];
  for (let l = 0; l < c.nLayer; l++) {
    const p = `h.${l}.`;
    blocks.push({
      ln1: norm(p + 'ln_1'),
      attn: lin(p + 'attn.c_attn'),
      attnOut: lin(p + 'attn.c_proj'),
      ln2: norm(p + 'ln_2'),
      fc: lin(p + 'mlp.c_fc'),
      proj: lin(p + 'mlp.c_proj'),
    });
  }
  // HF ties lm_head to wte unless tie_word_embeddings is false; a stored lm_head is then ignored.
  const lmKey = !c.tieWordEmbeddings && byKey.has('lm_head.weight') ? 'lm_head.weight' : null;
  const E = lmKey ? (mk(lmKey) as tf.Tensor2D) : wte;
  let unembed: Unembedding = { E };
  if (!trainable) {
    const chunk = opts.vocabChunk ?? vocabChunkFor(c.dModel, backendInfo()?.maxBindingBytes);
    unembed = frozenUnembedding(E, byKey.get(lmKey ?? 'wte.weight')!.data, chunk);
  }
  return { wte, wpe: mk('wpe.weight') as tf.Tensor2D, blocks, lnf: norm('ln_f'), unembed };
}

/**
 * The cached unembedding of frozen weights: E's row chunks and their transposes. Chunks are cut from the host copy
 * `data` of E, so a vocabulary matrix above a GPU's binding limit is never bound whole.
 */
export function frozenUnembedding(E: tf.Tensor2D, data: Float32Array, chunk: number): Unembedding {
  const [V, d] = E.shape;
  const EChunks: tf.Tensor2D[] = [];
  if (V > chunk) for (let s = 0; s < V; s += chunk) EChunks.push(tf.tensor2d(data.subarray(s * d, Math.min(V, s + chunk) * d), [Math.min(chunk, V - s), d]));
  const ETChunks = (EChunks.length ? EChunks : [E]).map((r) => tf.transpose(r) as tf.Tensor2D);
  return { E, ETChunks, EChunks: EChunks.length ? EChunks : undefined };
}

/** The token embedding's row chunks when the weights are frozen and tied (gather from these, never wte whole). */
export function tiedEmbeddingChunks(w: GPT2Weights): tf.Tensor2D[] | undefined {
  return w.unembed.ETChunks && w.unembed.E === w.wte ? w.unembed.EChunks : undefined;
}

/** Every tensor a GPT2Weights owns (shared ones once), for dispose and for optimizers. */
export function weightTensors(w: GPT2Weights): tf.Tensor[] {
  const out = new Set<tf.Tensor>([w.wte, w.wpe, w.lnf.g, w.lnf.b, w.unembed.E, ...(w.unembed.ETChunks ?? []), ...(w.unembed.EChunks ?? [])]);
  for (const b of w.blocks) {
    for (const n of [b.ln1, b.ln2]) out.add(n.g).add(n.b);
    for (const l of [b.attn, b.attnOut, b.fc, b.proj]) {
      out.add(l.W).add(l.b);
      if (l.WT) out.add(l.WT);
    }
  }
  return [...out];
}

/** Checkpoint key → tensor, in HF naming, for saving (tied lm_head omitted, as HF does). */
export function namedWeights(w: GPT2Weights): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>([
    ['wte.weight', w.wte],
    ['wpe.weight', w.wpe],
  ]);
  w.blocks.forEach((b, l) => {
    const p = `h.${l}.`;
    m.set(p + 'ln_1.weight', b.ln1.g).set(p + 'ln_1.bias', b.ln1.b);
    m.set(p + 'attn.c_attn.weight', b.attn.W).set(p + 'attn.c_attn.bias', b.attn.b);
    m.set(p + 'attn.c_proj.weight', b.attnOut.W).set(p + 'attn.c_proj.bias', b.attnOut.b);
    m.set(p + 'ln_2.weight', b.ln2.g).set(p + 'ln_2.bias', b.ln2.b);
    m.set(p + 'mlp.c_fc.weight', b.fc.W).set(p + 'mlp.c_fc.bias', b.fc.b);
    m.set(p + 'mlp.c_proj.weight', b.proj.W).set(p + 'mlp.c_proj.bias', b.proj.b);
  });
  m.set('ln_f.weight', w.lnf.g).set('ln_f.bias', w.lnf.b);
  if (w.unembed.E !== w.wte) m.set('lm_head.weight', w.unembed.E);
  return m;
}
