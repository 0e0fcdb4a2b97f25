// Gradient methods (embed, projected, subspace): Adam on a parameterisation's variables, maximising
// objective − λ_fluency·cross-entropy − λ_manifold·distance.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import type { DreamConfig } from './config.js';
import type { DecoderName } from './decode.js';
import type { Objective } from './objectives.js';
import type { Parameterization } from './params.js';
import { fluencyPenalty, manifoldDistance } from './regularisers.js';
import type { DreamMethod, MethodStep } from './method.js';

/** The BOS prefix and the mask that keeps it out of every reduction. */
export function withPrefix(model: GPT2, emb: tf.Tensor3D): { input: tf.Tensor3D; mask: tf.Tensor2D } {
  const [B, T, d] = emb.shape;
  const bos = tf.reshape(model.embed(tf.tensor2d([[model.config.bosTokenId]], [1, 1], 'int32')), [1, 1, d]);
  const input = tf.concat([tf.tile(bos, [B, 1, 1]), emb], 1) as tf.Tensor3D;
  const mask = tf.concat([tf.zeros([B, 1]), tf.ones([B, T])], 1) as tf.Tensor2D;
  return { input, mask };
}

export function gradientMethod(model: GPT2, param: Parameterization, objective: Objective, cfg: DreamConfig): DreamMethod {
  const optimizer = tf.train.adam(cfg.lr);
  const needLogits = cfg.fluency > 0 || objective.needsLogits;
  const decoder: DecoderName = cfg.decoder;
  let forwardEquivalents = 0;
  return {
    name: param.name,
    async step(): Promise<MethodStep> {
      // Fluency targets are the currently decoded tokens (constants for this step).
      const targets = cfg.fluency > 0 ? await param.tokens(decoder) : null;
      // Read back after the step (asynchronously: GPU backends have no synchronous read).
      let softT: tf.Tensor | null = null;
      let ceT: tf.Tensor | null = null;
      tf.tidy(() => {
        const cost = optimizer.minimize(() => {
          const { input, mask } = withPrefix(model, param.embeds());
          let values: tf.Tensor;
          let ce: tf.Scalar | null = null;
          if (targets && !objective.needsLogits) {
            // Fluency through the fused loss (no [B·T, V] logits): position t predicts free token t; the last
            // position has no target (a placeholder, left out of the mean).
            const [B, T] = [targets.length, targets[0].length];
            const next = tf.concat([tf.tensor2d(targets, [B, T], 'int32'), tf.zeros([B, 1], 'int32')], 1) as tf.Tensor2D;
            const run = model.runWithLoss({ embeds: input }, next, objective.hooks);
            values = objective.value({ cache: run.cache, mask });
            ce = tf.mean(tf.slice(run.loss, [0, 0], [B, T])) as tf.Scalar;
          } else {
            const run = model.run({ embeds: input }, { hooks: objective.hooks, stopAtLayer: needLogits ? undefined : objective.maxLayer + 1 });
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
