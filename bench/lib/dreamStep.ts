// The dreaming step both implementations are timed on: maximise one post-GELU neuron while keeping the text
// likely under the model. loss = −mean(neuron) + λ·mean next-token cross-entropy, Adam on the input embeddings.
import * as tf from '@tensorflow/tfjs-core';
import { neuronObjective } from '../../src-main/dream/objectives.js';
import type { GPT2 } from '../../src-main/model/gpt2.js';
import { NaiveGPT2 } from './naiveGpt2.js';

export interface StepSpec {
  layer: number;
  neuron: number;
  /** Weight of the cross-entropy term. */
  lambda: number;
}

/** Next-token targets for ids [B, T], flattened to [B·T]; the last position of each row has weight 0. */
export interface Targets {
  targets: tf.Tensor1D; // int32 [B·T]
  weights: tf.Tensor1D; // float32 [B·T]
}

export function nextTokenTargets(ids: Int32Array, B: number, T: number): Targets {
  const targets = new Int32Array(B * T);
  const weights = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      targets[b * T + t] = ids[b * T + t + 1];
      weights[b * T + t] = 1;
    }
  }
  return { targets: tf.tensor1d(targets, 'int32'), weights: tf.tensor1d(weights, 'float32') };
}

export type LossFn = (embeds: tf.Tensor3D) => tf.Scalar;

/** Ours: GPT2.run with the layer's hook, the project's neuron objective, and the fused cross-entropy. */
export function textdreamLoss(model: GPT2, tg: Targets, spec: StepSpec): LossFn {
  const objective = neuronObjective(spec.layer, spec.neuron);
  return (embeds) => {
    const [B, T] = embeds.shape;
    // The cross-entropy fused with the chunked vocabulary projection: no [B·T, V] logits are built.
    const r = model.runWithLoss({ embeds }, tf.reshape(tg.targets, [B, T]) as tf.Tensor2D, objective.hooks);
    const act = tf.mean(objective.value({ cache: r.cache }));
    const ce = tf.div(tf.sum(tf.mul(tf.reshape(r.loss, [-1]), tg.weights)), tf.sum(tg.weights));
    return tf.sub(tf.mul(spec.lambda, ce), act) as tf.Scalar;
  };
}

export function naiveLoss(model: NaiveGPT2, tg: Targets, spec: StepSpec): LossFn {
  return (embeds) => {
    const { logits, mlpPost } = model.forward(embeds);
    const post = mlpPost[spec.layer];
    const [B, T] = post.shape;
    const act = tf.mean(tf.slice(post, [0, 0, spec.neuron], [B, T, 1]));
    const ce = NaiveGPT2.crossEntropy(logits, tg.targets, tg.weights);
    return tf.sub(tf.mul(spec.lambda, ce), act) as tf.Scalar;
  };
}

/** Loss and gradient w.r.t. the embeddings, read back to the CPU (no optimizer). */
export function lossAndGrad(loss: LossFn, embeds: tf.Tensor3D): { loss: number; grad: Float32Array } {
  return tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad((e: tf.Tensor) => loss(e as tf.Tensor3D))(embeds);
    return { loss: value.dataSync()[0], grad: grad.dataSync() as Float32Array };
  });
}

export interface StepResult {
  loss: number;
  /** Gradient w.r.t. the embeddings before the update, when asked for. */
  grad?: Float32Array;
}

/**
 * One Adam step per call on a variable of embeddings. Everything in a step lives in one tf.tidy; the loss is
 * read back (dataSync), so a timed step includes all of its work.
 */
export class DreamStepper {
  readonly embeds: tf.Variable;
  private readonly opt: tf.AdamOptimizer;

  constructor(private readonly loss: LossFn, init: tf.Tensor3D, lr = 0.01) {
    this.embeds = tf.variable(init, true);
    this.opt = tf.train.adam(lr);
  }

  step(captureGrad = false): StepResult {
    let grad: Float32Array | undefined;
    const value = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => this.loss(this.embeds as tf.Tensor as tf.Tensor3D), [this.embeds]);
      if (captureGrad) grad = grads[this.embeds.name].dataSync().slice() as Float32Array;
      this.opt.applyGradients(grads as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
      return value;
    });
    const loss = value.dataSync()[0];
    value.dispose();
    return { loss, grad };
  }

  dispose(): void {
    this.opt.dispose();
    this.embeds.dispose();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
