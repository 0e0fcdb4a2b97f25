// MNIST dream settings and step records as plain data. Dependency-free (no tfjs, no Node): config.ts, nets.ts and
// dream.ts re-export these, and the contract (api/wire.ts) builds on them.

/**
 * Activations a dream can target in a classifier, in forward order. Hidden layers are taken before their ReLU
 * (as Lucid's `*_pre_relu` targets: a unit that is off at the start still has a gradient); `logits` are before
 * the softmax.
 */
export const LAYERS = ['conv1', 'conv2', 'fc1', 'logits'] as const;
export type LayerName = (typeof LAYERS)[number];

export const SPACES = ['raw', 'latent'] as const;
/** `raw`: 784 unconstrained logits → sigmoid → pixels. `latent`: 16 numbers → the autoencoder's decoder → pixels. */
export type Space = (typeof SPACES)[number];

export type MnistTarget =
  /** A class logit of the classifier (before softmax). */
  | { kind: 'class'; class: number }
  /** A hidden unit: a channel's mean over positions for conv layers, one unit for dense layers. */
  | { kind: 'unit'; layer: LayerName; index: number };

export interface MnistDreamConfig {
  target: MnistTarget;
  space: Space;
  steps: number;
  /** Adam learning rate on the parameterisation's variables. */
  lr: number;
  /** Seeds the starting point and the jitter offsets: the same seed gives the same dream. */
  seed: number;
  /** Weight of the image's mean squared intensity (pulls pixels to the black background). */
  l2: number;
  /** Weight of the image's total variation (mean absolute difference of neighbouring pixels). */
  tv: number;
  /** Random shift of the image by up to this many pixels before the classifier, fresh every step (0: off). */
  jitter: number;
  /** Emit a step record every `every` steps (and at the last). */
  every: number;
}

export interface MnistStepRecord {
  step: number;
  /** The objective on the current image, unjittered (the classifier's logit or unit). */
  objective: number;
  /** What the optimiser minimised at this step: −objective (jittered) + regularisers. NaN for the initial record. */
  loss: number;
  /** The dream, 28×28 row-major, intensities in [0, 1]. */
  image: number[];
  /** Softmax of the classifier that is dreamed on. */
  probs: number[];
  /** Softmax of the independent judge, which the optimisation never sees. */
  judgeProbs: number[];
  /** The autoencoder's mean squared reconstruction error of the image: low for digit-like images. */
  reconError: number;
  elapsedMs: number;
}
