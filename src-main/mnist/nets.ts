// The three MNIST networks: the classifier that is dreamed on, an independent judge (another architecture, another
// seed) that only scores dreams, and a convolutional autoencoder whose 16-number latent is a second dreaming
// space. Parameter names mirror structure (`conv1.weight`), and so do the activation names dreams can target.
import { open } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../corpus/rng.js';
import { readSafetensorsFile, writeSafetensorsFile, type TensorToWrite } from '../model/safetensors.js';
import { ModelFileError } from '../model/errors.js';
import { SIDE } from './data.js';
import { avgPool2, conv2dSame, dense, maxPool2, upsample2 } from './ops.js';
import type { LayerName } from './spec.js';

export { LAYERS, type LayerName } from './spec.js';

export const NET_NAMES = ['classifier', 'judge', 'autoencoder'] as const;
export type NetName = (typeof NET_NAMES)[number];

export const LATENT = 16;

/** Every parameter of every network, with its shape: the safetensors files must match this exactly. */
export const PARAM_SHAPES: Record<NetName, Record<string, number[]>> = {
  // conv 3×3×16 → maxpool → conv 3×3×32 → maxpool → dense 64 → 10
  classifier: {
    'conv1.weight': [3, 3, 1, 16], 'conv1.bias': [16],
    'conv2.weight': [3, 3, 16, 32], 'conv2.bias': [32],
    'fc1.weight': [7 * 7 * 32, 64], 'fc1.bias': [64],
    'logits.weight': [64, 10], 'logits.bias': [10],
  },
  // conv 5×5×8 → avgpool → conv 5×5×16 → avgpool → dense 96 → 10
  judge: {
    'conv1.weight': [5, 5, 1, 8], 'conv1.bias': [8],
    'conv2.weight': [5, 5, 8, 16], 'conv2.bias': [16],
    'fc1.weight': [7 * 7 * 16, 96], 'fc1.bias': [96],
    'logits.weight': [96, 10], 'logits.bias': [10],
  },
  // encoder: conv 3×3×16 → maxpool → conv 3×3×32 → maxpool → dense 16 (z, linear)
  // decoder: dense 7·7·32 → ×2 → conv 3×3×16 → ×2 → conv 3×3×1 → sigmoid
  autoencoder: {
    'enc.conv1.weight': [3, 3, 1, 16], 'enc.conv1.bias': [16],
    'enc.conv2.weight': [3, 3, 16, 32], 'enc.conv2.bias': [32],
    'enc.fc.weight': [7 * 7 * 32, LATENT], 'enc.fc.bias': [LATENT],
    'dec.fc.weight': [LATENT, 7 * 7 * 32], 'dec.fc.bias': [7 * 7 * 32],
    'dec.conv1.weight': [3, 3, 32, 16], 'dec.conv1.bias': [16],
    'dec.conv2.weight': [3, 3, 16, 1], 'dec.conv2.bias': [1],
  },
};

/** Not trained by gradient: the training digits' latent mean and standard deviation, per dimension. */
export const AE_STATS = { 'latent.mean': [LATENT], 'latent.std': [LATENT] } as const;

export interface Net {
  name: NetName;
  /** Weights by name; tf.Variables while training. */
  params: Record<string, tf.Tensor>;
  /** Free-form provenance written into the safetensors header (seed, epochs, accuracy, …). */
  meta: Record<string, string>;
}

export function disposeNet(net: Net): void {
  for (const t of Object.values(net.params)) t.dispose();
}

/** Units in a layer of a classifier-type network (channels for conv layers). */
export function layerWidth(net: Net, layer: LayerName): number {
  return net.params[`${layer}.bias`].shape[0];
}

/** Standard normals from the project's seeded generator (Box–Muller). */
export function gaussians(rand: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const a = 2 * Math.PI * rand();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** He-normal weights and zero biases from `seed`, as trainable variables. */
export function initNet(name: NetName, seed: number): Net {
  const rand = rng(seed);
  const params: Record<string, tf.Tensor> = {};
  for (const [pname, shape] of Object.entries(PARAM_SHAPES[name])) {
    const size = shape.reduce((a, b) => a * b, 1);
    let data = new Float32Array(size);
    if (pname.endsWith('.weight')) {
      const fanIn = shape.length === 4 ? shape[0] * shape[1] * shape[2] : shape[0];
      const scale = Math.sqrt(2 / fanIn);
      data = gaussians(rand, size).map((v) => v * scale);
    }
    const t = tf.tensor(data, shape);
    params[pname] = tf.variable(t, true, `mnist.${name}.${pname}`);
    t.dispose();
  }
  if (name === 'autoencoder') {
    params['latent.mean'] = tf.zeros([LATENT]);
    params['latent.std'] = tf.ones([LATENT]);
  }
  return { name, params, meta: { arch: name, seed: String(seed) } };
}

const p4 = (net: Net, n: string) => net.params[n] as tf.Tensor4D;
const p2 = (net: Net, n: string) => net.params[n] as tf.Tensor2D;
const p1 = (net: Net, n: string) => net.params[n] as tf.Tensor1D;

export interface ClassifierRun {
  /** [B, 10], or undefined when the run stopped early. */
  logits?: tf.Tensor2D;
  /** Pre-ReLU activations by layer name: conv layers [B, H, W, C], dense layers [B, units]. */
  acts: Partial<Record<LayerName, tf.Tensor>>;
}

/**
 * Runs the classifier or the judge on images x [B, 28, 28, 1]. `stopAt` skips the layers after it (a dream on
 * conv1 need not run the rest); `inputGrad: false` skips the gradient for x (training).
 */
export function runClassifier(net: Net, x: tf.Tensor4D, stopAt: LayerName = 'logits', inputGrad = true): ClassifierRun {
  if (net.name === 'autoencoder') throw new Error('runClassifier: the autoencoder is not a classifier');
  const pool = net.name === 'classifier' ? maxPool2 : avgPool2;
  const acts: ClassifierRun['acts'] = {};
  const pre1 = conv2dSame(x, p4(net, 'conv1.weight'), p1(net, 'conv1.bias'), inputGrad); // [B, 28, 28, C1]
  acts.conv1 = pre1;
  if (stopAt === 'conv1') return { acts };
  const pre2 = conv2dSame(pool(tf.relu(pre1)), p4(net, 'conv2.weight'), p1(net, 'conv2.bias')); // [B, 14, 14, C2]
  acts.conv2 = pre2;
  if (stopAt === 'conv2') return { acts };
  const flat = tf.reshape(pool(tf.relu(pre2)), [x.shape[0], -1]) as tf.Tensor2D; // [B, 7·7·C2]
  const pre3 = dense(flat, p2(net, 'fc1.weight'), p1(net, 'fc1.bias')); // [B, H1]
  acts.fc1 = pre3;
  if (stopAt === 'fc1') return { acts };
  const logits = dense(tf.relu(pre3), p2(net, 'logits.weight'), p1(net, 'logits.bias')); // [B, 10]
  acts.logits = logits;
  return { logits, acts };
}

/** Class logits [B, 10] of images [B, 28, 28, 1]. */
export function classify(net: Net, x: tf.Tensor4D, inputGrad = true): tf.Tensor2D {
  return runClassifier(net, x, 'logits', inputGrad).logits!;
}

/** Images [B, 28, 28, 1] → latent z [B, 16]. */
export function encode(net: Net, x: tf.Tensor4D, inputGrad = true): tf.Tensor2D {
  const h1 = maxPool2(tf.relu(conv2dSame(x, p4(net, 'enc.conv1.weight'), p1(net, 'enc.conv1.bias'), inputGrad))); // [B, 14, 14, 16]
  const h2 = maxPool2(tf.relu(conv2dSame(h1, p4(net, 'enc.conv2.weight'), p1(net, 'enc.conv2.bias')))); // [B, 7, 7, 32]
  return dense(tf.reshape(h2, [x.shape[0], -1]) as tf.Tensor2D, p2(net, 'enc.fc.weight'), p1(net, 'enc.fc.bias')); // [B, 16]
}

/** Latent z [B, 16] → pixel logits [B, 28, 28, 1] (the image is their sigmoid). */
export function decodeLogits(net: Net, z: tf.Tensor2D): tf.Tensor4D {
  const B = z.shape[0];
  const h0 = tf.relu(dense(z, p2(net, 'dec.fc.weight'), p1(net, 'dec.fc.bias'))); // [B, 1568]
  const h1 = upsample2(tf.reshape(h0, [B, 7, 7, 32]) as tf.Tensor4D); // [B, 14, 14, 32]
  const h2 = upsample2(tf.relu(conv2dSame(h1, p4(net, 'dec.conv1.weight'), p1(net, 'dec.conv1.bias')))); // [B, 28, 28, 16]
  return conv2dSame(h2, p4(net, 'dec.conv2.weight'), p1(net, 'dec.conv2.bias')); // [B, 28, 28, 1]
}

/** Latent z [B, 16] → images [B, 28, 28, 1] in [0, 1]. */
export function decode(net: Net, z: tf.Tensor2D): tf.Tensor4D {
  return tf.sigmoid(decodeLogits(net, z));
}

/** Mean squared error per image between x [B, 28, 28, 1] and its reconstruction: the realism proxy. */
export function reconstructionError(ae: Net, x: tf.Tensor4D): tf.Tensor1D {
  return tf.mean(tf.squaredDifference(decode(ae, encode(ae, x)), x), [1, 2, 3]) as tf.Tensor1D;
}

/** Images as a [B, 28, 28, 1] tensor from a flat buffer of B·784 values. */
export function imagesTensor(data: Float32Array, count: number): tf.Tensor4D {
  return tf.tensor4d(data, [count, SIDE, SIDE, 1]);
}

export async function saveNet(net: Net, path: string, dtype: 'F32' | 'F16' = 'F32'): Promise<void> {
  const tensors: TensorToWrite[] = Object.entries(net.params).map(([name, t]) => ({ name, shape: t.shape, data: t.dataSync() as Float32Array, dtype }));
  await writeSafetensorsFile(path, tensors, net.meta);
}

/** Loads a network and checks that every parameter is there with the right shape (and nothing else). */
export async function loadNet(name: NetName, path: string): Promise<Net> {
  const raw = await readSafetensorsFile(path);
  const expected: Record<string, readonly number[]> = { ...PARAM_SHAPES[name], ...(name === 'autoencoder' ? AE_STATS : {}) };
  const fix = 'retrain with `textdream train-mnist` or restore resources/mnist from git';
  for (const [pname, shape] of Object.entries(expected)) {
    const t = raw.get(pname);
    if (!t) throw new ModelFileError(`tensor "${pname}" of the ${name} is missing`, path, fix);
    if (t.shape.join(',') !== shape.join(',')) throw new ModelFileError(`tensor "${pname}" has shape [${t.shape}], expected [${shape}]`, path, fix);
  }
  for (const pname of raw.keys()) if (!(pname in expected)) throw new ModelFileError(`unexpected tensor "${pname}" for the ${name}`, path, fix);
  const params: Record<string, tf.Tensor> = {};
  for (const pname of Object.keys(expected)) params[pname] = tf.tensor(raw.get(pname)!.data, [...expected[pname]]);
  const meta = await readMeta(path);
  if (meta.arch !== undefined && meta.arch !== name) throw new ModelFileError(`file holds a ${meta.arch}, expected the ${name}`, path, fix);
  return { name, params, meta };
}

async function readMeta(path: string): Promise<Record<string, string>> {
  const h = await open(path, 'r');
  try {
    const lenBuf = Buffer.alloc(8);
    await h.read(lenBuf, 0, 8, 0);
    const len = Number(lenBuf.readBigUInt64LE(0));
    const header = Buffer.alloc(len);
    await h.read(header, 0, len, 8);
    return (JSON.parse(header.toString('utf8')).__metadata__ ?? {}) as Record<string, string>;
  } finally {
    await h.close();
  }
}
