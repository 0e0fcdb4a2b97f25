// Gradient methods (embed, projected, subspace, latent): Adam on a parameterisation's variables, maximising
// objective − λ_fluency·cross-entropy − λ_manifold·distance, composed as one weighted objective.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2, ModelInput } from '../model/gpt2.js';
import type { DreamConfig } from './config.js';
import type { DecoderName } from './decode.js';
import { weightedObjective, type Objective, type ObjectiveContext } from './objectives.js';
import type { Parameterisation } from './params.js';
import { fluencyObjective, manifoldObjective, nextTokenLossFromLogits } from './regularisers.js';
import type { DreamMethod, MethodStep } from './method.js';
import type { MethodInputs } from './methods/define.js';

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
  const decoder: DecoderName = cfg.decoder;
  const manifold = cfg.manifold > 0 ? manifoldObjective(model) : null;
  let forwardEquivalents = initCost;
  return {
    name: param.name,
    async step(): Promise<MethodStep> {
      // Fluency targets are the currently decoded tokens (constants for this step); a parameterisation that
      // decodes padding says how much of each row is text, and only that counts.
      const dec = param.decoded ? await param.decoded(decoder) : null;
      const fluency = cfg.fluency > 0 ? fluencyObjective(dec?.ids ?? (await param.tokens(decoder))) : null;
      // What is climbed: the target's objective minus the regularisers, all objectives of one kind.
      const total = weightedObjective([
        { objective, weight: 1 },
        ...(fluency ? [{ objective: fluency, weight: -cfg.fluency }] : []),
        ...(manifold ? [{ objective: manifold, weight: -cfg.manifold }] : []),
      ]);
      // Read back after the step (asynchronously: GPU backends have no synchronous read).
      let softT: tf.Tensor | null = null;
      let ceT: tf.Tensor | null = null;
      tf.tidy(() => {
        const cost = optimizer.minimize(() => {
          const embeds = param.embeds();
          const { input, mask } = withPrefix(model, embeds, param.residLayer, dec?.lengths);
          const ctx = runObjective(model, total, param.residLayer ? { resid: input, layer: param.residLayer } : { embeds: input }, mask, embeds);
          softT = tf.keep(tf.mean(objective.value(ctx)));
          if (fluency) ceT = tf.keep(tf.mean(fluency.value(ctx)));
          return tf.neg(tf.mean(total.value(ctx))) as tf.Scalar;
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

/** The gradient methods that start from tokens (embed, projected, subspace): `batch` starting rows, parameterised. */
export async function gradientFromTokens(
  { ctx, objective, cfg, startTokens }: Pick<MethodInputs, 'ctx' | 'objective' | 'cfg' | 'startTokens'>,
  parameterise: (tokens: number[][]) => Parameterisation,
): Promise<DreamMethod> {
  const { tokens, cost } = await startTokens(cfg.batch);
  return gradientMethod(ctx.model, parameterise(tokens), objective, cfg, cost);
}

/**
 * One forward pass that gives an objective everything it reads: hooks, and the next-token loss of its `nextTokens`
 * through the fused loss when it needs no logits (no [B·T, V] logits are formed), else from the logits.
 */
export function runObjective(model: GPT2, objective: Objective, input: ModelInput, mask: tf.Tensor2D, embeds: tf.Tensor3D): ObjectiveContext {
  const ctx: ObjectiveContext = { cache: new Map(), mask, ...(objective.needsEmbeds ? { embeds } : {}) };
  // Position t predicts free token t; the last position has no target (a placeholder, left out by the mask).
  const next = objective.nextTokens
    ? (tf.concat([tf.tensor2d(objective.nextTokens, [objective.nextTokens.length, objective.nextTokens[0]!.length], 'int32'), tf.zeros([objective.nextTokens.length, 1], 'int32')], 1) as tf.Tensor2D)
    : null;
  if (next && !objective.needsLogits) {
    const run = model.runWithLoss(input, next, objective.hooks);
    return { ...ctx, cache: run.cache, nextTokenLoss: run.loss };
  }
  const run = model.run(input, { hooks: objective.hooks, stopAtLayer: objective.needsLogits ? undefined : objective.maxLayer + 1 });
  return { ...ctx, cache: run.cache, logits: run.logits, ...(next ? { nextTokenLoss: nextTokenLossFromLogits(run.logits!, next) } : {}) };
}
