// `fluent`: discrete search trading activation against fluency, in the spirit of EPO. A population holds one
// member per λ; each step proposes single-token substitutions from the gradient of (activation − λ·CE)
// w.r.t. one-hot tokens (optionally only among the model's own top-p next tokens), evaluates every
// candidate exactly (hard: decoded, re-tokenised, run), and keeps for each λ the best of the pool.
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../corpus/rng.js';
import type { GPT2 } from '../model/gpt2.js';
import { gatherPerRow, unembed } from '../model/ops.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { DreamConfig } from './config.js';
import { withPrefix } from './continuous.js';
import { hardEvaluate, type HardEval } from './hard.js';
import type { DreamMethod, MethodStep } from './method.js';
import type { Objective, Target } from './objectives.js';
import { fluencyPenalty } from './regularisers.js';

const score = (e: HardEval, lambda: number) => (Number.isFinite(e.value) && Number.isFinite(e.ce) ? e.value - lambda * e.ce : -Infinity);

/** For each (member, position): candidate token ids ranked by the linearised gain of the member's loss. */
async function proposeTokens(model: GPT2, objective: Objective, pop: number[][], lambdas: number[], topK: number, topP: number): Promise<number[][][]> {
  const P = pop.length;
  const T = pop[0].length;
  const V = model.config.vocabSize;
  let gainIds!: tf.Tensor;
  let nucleus: tf.Tensor | null = null;
  tf.tidy(() => {
    const ids = tf.tensor2d(pop, [P, T], 'int32');
    const emb = model.embed(ids);
    const lam = tf.tensor1d(lambdas);
    let logitsOut: tf.Tensor3D | undefined;
    const g = tf.grad((e: tf.Tensor) => {
      const { input, mask } = withPrefix(model, e as tf.Tensor3D);
      const run = model.run({ embeds: input }, { hooks: objective.hooks });
      logitsOut = tf.keep(run.logits!);
      const value = objective.value({ cache: run.cache, mask });
      // Per-member fluency so each member follows its own λ.
      const [, T1, Vv] = run.logits!.shape;
      const perMemberCE = tf.stack(
        Array.from({ length: P }, (_, i) => fluencyPenalty(tf.slice(run.logits!, [i, 0, 0], [1, T1, Vv]) as tf.Tensor3D, tf.slice(ids, [i, 0], [1, T]) as tf.Tensor2D)),
      );
      return tf.sum(tf.sub(value, tf.mul(lam, perMemberCE))) as tf.Scalar;
    })(emb) as tf.Tensor3D;
    // Linearised gain of swapping in token v at (i, t): g·e_v − g·e_current.
    const d = model.config.dModel;
    const scores = unembed(tf.reshape(g, [P * T, d]) as tf.Tensor2D, model.weights.unembed); // [P·T, V]
    let ranked = scores;
    let nucleusIds: tf.Tensor | null = null;
    if (topP > 0 && logitsOut) {
      // The model's own next-token distribution at each free position (predicted from the position before).
      const pred = tf.reshape(tf.slice(logitsOut, [0, 0, 0], [P, T, V]), [P * T, V]) as tf.Tensor2D;
      const top = tf.topk(pred, Math.min(512, V));
      const probs = tf.softmax(pred);
      const topProbs = gatherPerRow(probs, top.indices as tf.Tensor2D);
      nucleusIds = tf.keep(tf.stack([tf.cast(top.indices, 'float32'), topProbs as tf.Tensor2D], 2));
      ranked = scores;
    }
    logitsOut?.dispose();
    gainIds = tf.keep(tf.topk(ranked, Math.min(topP > 0 ? 2048 : topK, V)).indices);
    nucleus = nucleusIds;
  });
  const gainRows = (await gainIds.array()) as number[][];
  gainIds.dispose();
  let allowed: Set<number>[] | null = null;
  if (nucleus) {
    const rows = (await (nucleus as tf.Tensor).array()) as number[][][];
    (nucleus as tf.Tensor).dispose();
    allowed = rows.map((row) => {
      const set = new Set<number>();
      let cum = 0;
      for (const [id, p] of row) {
        set.add(id);
        cum += p;
        if (cum >= topP) break;
      }
      return set;
    });
  }
  return Array.from({ length: P }, (_, i) =>
    Array.from({ length: T }, (_, t) => {
      const row = gainRows[i * T + t];
      const ok = allowed ? row.filter((id) => allowed![i * T + t].has(id)) : row;
      return (ok.length ? ok : row).slice(0, topK);
    }),
  );
}

export function fluentMethod(model: GPT2, tok: TextTokenizer, target: Target, objective: Objective, cfg: DreamConfig, init: number[][], initCost = 0): DreamMethod {
  const lambdas = cfg.lambdas;
  const rand = rng(cfg.seed + 1);
  let pop = lambdas.map((_, i) => init[i % init.length].slice());
  let evals: HardEval[] | null = null;
  let forwardEquivalents = pop.length + initCost;
  return {
    name: 'fluent',
    async step(): Promise<MethodStep> {
      const P = pop.length;
      const T = pop[0].length;
      const popEvals = evals ?? (await hardEvaluate(model, tok, target, pop, cfg.reduce));
      const options = await proposeTokens(model, objective, pop, lambdas, cfg.topK, cfg.topP);
      const cands: number[][] = [];
      for (let i = 0; i < P; i++) {
        for (let c = 0; c < cfg.candidates; c++) {
          const t = Math.floor(rand() * T);
          const choices = options[i][t];
          const next = pop[i].slice();
          next[t] = choices[Math.floor(rand() * choices.length)];
          cands.push(next);
        }
      }
      const candEvals = await hardEvaluate(model, tok, target, cands, cfg.reduce);
      const pool = [...pop.map((p, i) => ({ ids: p, e: popEvals[i] })), ...cands.map((c, i) => ({ ids: c, e: candEvals[i] }))];
      const nextPop: number[][] = [];
      const nextEvals: HardEval[] = [];
      lambdas.forEach((lam, i) => {
        let best = i; // the member itself wins ties: no churn without improvement
        for (let j = 0; j < pool.length; j++) if (score(pool[j].e, lam) > score(pool[best].e, lam)) best = j;
        nextPop.push(pool[best].ids.slice());
        nextEvals.push(pool[best].e);
      });
      pop = nextPop;
      evals = nextEvals;
      forwardEquivalents += 3 * P + cands.length;
      const soft = nextEvals.reduce((a, e) => a + (Number.isFinite(e.value) ? e.value : 0), 0) / P;
      return { soft, fluencyCE: nextEvals.reduce((a, e) => a + e.ce, 0) / P, forwardEquivalents };
    },
    current: async () => pop.map((p) => p.slice()),
    labels: () => lambdas.map((l) => `λ=${l}`),
    rank: (e, i) => score(e, lambdas[i]),
    dispose: () => undefined,
  };
}
