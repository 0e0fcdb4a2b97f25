// Objectives: a classifier run → one value per image, higher is better. They compose arithmetically (Lucid
// style: `sum([[1, classLogit(3)], [-0.5, classLogit(8)]])`) and carry a readable description.
import * as tf from '@tensorflow/tfjs-core';
import type { MnistTarget } from './config.js';
import { LAYERS, layerWidth, type ClassifierRun, type LayerName, type Net } from './nets.js';

export interface MnistObjective {
  description: string;
  /** Deepest layer the objective reads; the classifier stops there. */
  layer: LayerName;
  /** [B] values. */
  value(run: ClassifierRun): tf.Tensor1D;
}

export class MnistObjectiveError extends Error {
  override name = 'MnistObjectiveError';
}

const deeper = (a: LayerName, b: LayerName): LayerName => (LAYERS.indexOf(a) >= LAYERS.indexOf(b) ? a : b);

/** The logit of class `c`. */
export function classLogit(c: number): MnistObjective {
  return {
    description: `logit of class ${c}`,
    layer: 'logits',
    value: (run) => tf.reshape(tf.slice(run.acts.logits!, [0, c], [-1, 1]), [-1]) as tf.Tensor1D,
  };
}

/** Unit `index` of `layer` before its ReLU: a channel's mean over positions for conv layers, the unit itself for dense ones. */
export function unit(layer: LayerName, index: number): MnistObjective {
  return {
    description: `${layer} unit ${index} (${layer === 'logits' ? 'logit' : 'pre-ReLU'}${layer.startsWith('conv') ? ', channel mean' : ''})`,
    layer,
    value: (run) => {
      const a = run.acts[layer]!;
      if (a.rank === 4) return tf.mean(tf.slice(a, [0, 0, 0, index], [-1, -1, -1, 1]), [1, 2, 3]) as tf.Tensor1D;
      return tf.reshape(tf.slice(a, [0, index], [-1, 1]), [-1]) as tf.Tensor1D;
    },
  };
}

/** Σ wᵢ·objectiveᵢ. */
export function sum(terms: [number, MnistObjective][]): MnistObjective {
  if (!terms.length) throw new MnistObjectiveError('sum: no terms');
  return {
    description: terms.map(([w, o], i) => `${i === 0 ? (w < 0 ? '-' : '') : w < 0 ? ' - ' : ' + '}${Math.abs(w) === 1 ? '' : `${Math.abs(w)}·`}${o.description}`).join(''),
    layer: terms.map(([, o]) => o.layer).reduce(deeper),
    value: (run) => terms.map(([w, o]) => tf.mul(o.value(run), w) as tf.Tensor1D).reduce((a, b) => tf.add(a, b) as tf.Tensor1D),
  };
}

/** The objective a config's target names, checked against the classifier's widths. */
export function targetObjective(target: MnistTarget, classifier: Net): MnistObjective {
  if (target.kind === 'class') return classLogit(target.class);
  const width = layerWidth(classifier, target.layer);
  if (target.index >= width) throw new MnistObjectiveError(`--unit ${target.layer}:${target.index} is out of range: ${target.layer} has units 0-${width - 1}`);
  return unit(target.layer, target.index);
}
