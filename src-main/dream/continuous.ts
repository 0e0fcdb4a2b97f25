// Gradient methods (embed, projected, subspace): Adam on a parameterisation's variables, maximising
// objective − λ_fluency·cross-entropy − λ_manifold·distance.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import type { DreamConfig } from './config.js';
import type { DecoderName } from './decode.js';
import type { Objective } from './objectives.js';
import type { Parameterisation } from './params.js';
import { fluencyPenalty, manifoldDistance } from './regularisers.js';
import type { DreamMethod, MethodStep } from './method.js';

/**
 * The BOS prefix and the mask that keeps it (and any padding past `lengths`) out of every reduction. With
 * `residLayer`, emb is the residual stream entering that block, and the prefix is BOS's own stream there.
 */
export function withPrefix(model: GPT2, emb: tf.Tensor3D, residLayer?: number, lengths?: number[]): { input: tf.Tensor3D; mask: tf.Tensor2D } {
  const [B, T, d] = emb.shape;
  const bosIds = tf.tensor2d([[model.config.bosTokenId]], [1, 1], 'int32');
  const bos = residLayer ? model.run({ ids: bosIds }, { stopAtLayer: residLayer }).resid : tf.reshape(model.embed(bosIds), [1, 1, d]);
  const input = tf.concat([tf.tile(bos, [B, 1, 1]), emb], 1) as tf.Tensor3D;
  const mask = lengths
    ? tf.tensor2d(lengths.flatMap((n) => Array.from({ length: T + 1 }, (_, t) => (t >= 1 && t <= Math.max(1, n) ? 1 : 0))), [B, T + 1])
    : (tf.concat([tf.zeros([B, 1]), tf.ones([B, T])], 1) as tf.Tensor2D);
  return { input, mask };
}

export function gradientMethod(model: GPT2, param: Parameterisation, objective: Objective, cfg: DreamConfig, initCost = 0): DreamMethod {
  const optimizer = tf.train.adam(cfg.lr);
  const needLogits = cfg.fluency > 0 || objective.needsLogits;
  const decoder: DecoderName = cfg.decoder;
  let forwardEquivalents = initCost;
  return {
    name: param.name,
    async step(): Promise<MethodStep> {
      // Fluency targets are the currently decoded tokens (constants for this step); a parameterisation that
      // decodes padding says how much of each row is text, and only that counts.
      const dec = param.decoded ? await param.decoded(decoder) : null;
      const targets = cfg.fluency > 0 ? (dec?.ids ?? (await param.tokens(decoder))) : null;
      const modelInput = (x: tf.Tensor3D) => (param.residLayer ? { resid: x, layer: param.residLayer } : { embeds: x });
      // Read back after the step (asynchronously: GPU backends have no synchronous read).
      let softT: tf.Tensor | null = null;
      let ceT: tf.Tensor | null = null;
      tf.tidy(() => {
        const cost = optimizer.minimize(() => {
          const { input, mask } = withPrefix(model, param.embeds(), param.residLayer, dec?.lengths);
          let values: tf.Tensor;
          let ce: tf.Scalar | null = null;
          if (targets && !objective.needsLogits) {
            // Fluency through the fused loss (no [B·T, V] logits): position t predicts free token t; the last
            // position has no target (a placeholder, left out of the mean).
            const [B, T] = [targets.length, targets[0].length];
            const next = tf.concat([tf.tensor2d(targets, [B, T], 'int32'), tf.zeros([B, 1], 'int32')], 1) as tf.Tensor2D;
            const run = model.runWithLoss(modelInput(input), next, objective.hooks);
            values = objective.value({ cache: run.cache, mask });
            // Position t predicts free token t: weigh it by the mask of that token's position (t + 1).
            const weights = tf.slice(mask, [0, 1], [B, T]);
            ce = tf.div(tf.sum(tf.mul(tf.slice(run.loss, [0, 0], [B, T]), weights)), tf.sum(weights)) as tf.Scalar;
          } else {
            const run = model.run(modelInput(input), { hooks: objective.hooks, stopAtLayer: needLogits ? undefined : objective.maxLayer + 1 });
            values = objective.value({ cache: run.cache, logits: run.logits, mask });
            if (targets) ce = fluencyPenalty(run.logits!, tf.tensor2d(targets, [targets.length, targets[0].length], 'int32'));
          }
          let loss = tf.neg(tf.mean(values));
          softT = tf.keep(tf.mean(values));
          if (ce) {
            ceT = tf.keep(ce);
            loss = tf.add(loss, tf.mul(cfg.fluency, ce));
          }
          if (cfg.manifold > 0) loss = tf.add(loss, tf.mul(cfg.manifold, manifoldDistance(model, param.embeds())));
          return loss as tf.Scalar;
        }, true, param.variables);
        cost?.dispose();
      });
      const soft = (await softT!.data())[0];
      const fluencyCE = ceT ? (await (ceT as tf.Tensor).data())[0] : Number.NaN;
      tf.dispose([softT!, ...(ceT ? [ceT] : [])]);
      // Counted in single-sequence forward passes: forward + backward ≈ 3 per sequence.
      forwardEquivalents += 3 * cfg.batch;
      return { soft, fluencyCE, forwardEquivalents };
    },
    current: () => param.tokens(decoder),
    dispose: () => {
      optimizer.dispose();
      param.dispose();
    },
  };
}
