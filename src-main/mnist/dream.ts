// The MNIST dreaming loop: a parameterisation, an objective on the classifier, optional regularisers; step
// records from an async generator, a stop on an AbortSignal, the same dream for the same seed. Every record is
// measured afresh on the current image (no jitter): classifier and judge probabilities, reconstruction error.
import * as tf from '@tensorflow/tfjs-core';
import { randInt, rng } from '../corpus/rng.js';
import type { MnistDreamConfig } from './config.js';
import { classify, reconstructionError, runClassifier, type Net } from './nets.js';
import { targetObjective } from './objectives.js';
import { l2Penalty, latentCode, rawPixels, shiftImage, totalVariation, type Parameterisation } from './params.js';
import type { MnistStepRecord } from './spec.js';

export type { MnistStepRecord } from './spec.js';

export interface MnistModels {
  classifier: Net;
  judge: Net;
  autoencoder: Net;
}

export interface MnistDreamResult {
  config: MnistDreamConfig;
  target: string;
  stopped: 'completed' | 'aborted';
  steps: number;
  initial: MnistStepRecord;
  final: MnistStepRecord;
  elapsedMs: number;
}

/** Measures one image [1, 28, 28, 1] with all three networks. */
export function measureImage(models: MnistModels, x: tf.Tensor4D): { probs: number[]; judgeProbs: number[]; reconError: number } {
  return tf.tidy(() => {
    const probs = tf.softmax(classify(models.classifier, x));
    const judge = tf.softmax(classify(models.judge, x));
    const rec = reconstructionError(models.autoencoder, x);
    return { probs: Array.from(probs.dataSync()), judgeProbs: Array.from(judge.dataSync()), reconError: rec.dataSync()[0] };
  });
}

/** Index of the largest value. */
export function argmax(values: ArrayLike<number>): number {
  let at = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[at]) at = i;
  return at;
}

export function makeParameterisation(models: MnistModels, cfg: MnistDreamConfig): Parameterisation {
  return cfg.space === 'raw' ? rawPixels(cfg.seed) : latentCode(models.autoencoder, cfg.seed);
}

/** Run one dream; yields a record at step 0, every `cfg.every` steps and at the end (or where an abort stopped it). */
export async function* mnistDream(models: MnistModels, cfg: MnistDreamConfig, signal?: AbortSignal): AsyncGenerator<MnistStepRecord, MnistDreamResult> {
  const t0 = Date.now();
  const objective = targetObjective(cfg.target, models.classifier);
  const param = makeParameterisation(models, cfg);
  // Jitter offsets come from their own stream so that the starting point does not depend on --jitter.
  const jitterRand = rng(cfg.seed ^ 0x5bd1e995);
  const optimizer = tf.train.adam(cfg.lr);
  const v = param.variable;

  const record = (step: number, loss: number): MnistStepRecord =>
    tf.tidy(() => {
      const x = param.image(v);
      const value = objective.value(runClassifier(models.classifier, x, objective.layer)).dataSync()[0];
      return { step, objective: value, loss, image: Array.from(x.dataSync()), ...measureImage(models, x), elapsedMs: Date.now() - t0 };
    });

  const lossOf = (dx: number, dy: number) => (): tf.Scalar => {
    const x = param.image(v);
    let loss = tf.neg(tf.mean(objective.value(runClassifier(models.classifier, shiftImage(x, dx, dy), objective.layer))));
    if (cfg.l2 > 0) loss = tf.add(loss, tf.mul(cfg.l2, tf.mean(l2Penalty(x))));
    if (cfg.tv > 0) loss = tf.add(loss, tf.mul(cfg.tv, tf.mean(totalVariation(x))));
    return loss as tf.Scalar;
  };

  const initial = record(0, NaN);
  let last = initial;
  let step = 0;
  let loss = NaN;
  let stopped: MnistDreamResult['stopped'] = 'completed';
  try {
    yield initial;
    while (step < cfg.steps) {
      if (signal?.aborted) {
        stopped = 'aborted';
        break;
      }
      step += 1;
      const j = cfg.jitter;
      const dx = j ? randInt(jitterRand, 2 * j + 1) - j : 0;
      const dy = j ? randInt(jitterRand, 2 * j + 1) - j : 0;
      loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossOf(dx, dy), [v]);
        (optimizer as tf.Optimizer).applyGradients(grads);
        return value.dataSync()[0];
      });
      if (step % cfg.every === 0 || step === cfg.steps) {
        last = record(step, loss);
        yield last;
      }
      await new Promise((r) => setImmediate(r));
    }
    if (stopped === 'aborted' && last.step !== step) {
      last = record(step, loss);
      yield last;
    }
  } finally {
    optimizer.dispose();
    param.dispose();
  }
  return { config: cfg, target: objective.description, stopped, steps: step, initial, final: last, elapsedMs: Date.now() - t0 };
}

/** Runs a dream to its end and returns the summary (records are dropped). */
export async function mnistDreamToEnd(models: MnistModels, cfg: MnistDreamConfig, signal?: AbortSignal): Promise<MnistDreamResult> {
  const it = mnistDream(models, cfg, signal);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}

/** The class the judge gives the image, and its probability of `target`. */
export function judgeOf(rec: MnistStepRecord, target: number): { judged: number; pTarget: number } {
  return { judged: argmax(rec.judgeProbs), pTarget: rec.judgeProbs[target] };
}
