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
import { directEvaluator, type CandidateEvaluator } from './candidateBatch.js';
import type { DreamMethod, MethodStep } from './method.js';
import type { Objective, Target } from './objectives.js';
import { fluencyPenalty } from './regularisers.js';
import { breakingTokens, breaksNoRepeat, searchScore, type JudgeTerm } from './beam.js';

/** For each (member, position): candidate token ids ranked by the linearised gain of the member's loss. */
export async function proposeTokens(model: GPT2, objective: Objective, pop: number[][], lambdas: number[], topK: number, topP: number, banned?: Set<number>): Promise<number[][][]> {
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
    let nucleusIds: tf.Tensor | null = null;
    if (topP > 0 && logitsOut) {
      // The model's own next-token distribution at each free position (predicted from the position before).
      const pred = tf.reshape(tf.slice(logitsOut, [0, 0, 0], [P, T, V]), [P * T, V]) as tf.Tensor2D;
      const top = tf.topk(pred, Math.min(512, V));
      const probs = tf.softmax(pred);
      const topProbs = gatherPerRow(probs, top.indices as tf.Tensor2D);
      nucleusIds = tf.keep(tf.stack([tf.cast(top.indices, 'float32'), topProbs as tf.Tensor2D], 2));
    }
    logitsOut?.dispose();
    gainIds = tf.keep(tf.topk(scores, Math.min(topP > 0 || banned ? 2048 : topK, V)).indices);
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
      const free = banned ? row.filter((id) => !banned.has(id)) : row;
      const ok = allowed ? free.filter((id) => allowed![i * T + t].has(id)) : free;
      return (ok.length ? ok : free).slice(0, topK);
    }),
  );
}

export interface SubstitutionOptions {
  name: string;
  /** λ of each population member (the fluency weight it trades activation against). */
  lambdas: number[];
  /** Display label of each member. */
  labels: string[];
  /** Starting sequences the members may not move further than `maxEdits` token edits from (seeded edits). */
  origins?: number[][];
  maxEdits?: number;
  /** Token ids never proposed (line breaks, <|endoftext|> for searches that keep one run of prose). */
  banned?: Set<number>;
  /** Refuse candidates that repeat a bigram or use a word a third time. */
  noRepeat?: boolean;
  /** What each member maximises (beam.ts's searchScore with the run's ρ and judge term). */
  score: (e: HardEval, lambda: number) => number;
  initCost?: number;
  /** A candidate of member `i` whose text fails this is not evaluated (seeded: an edit may not break the sentence). */
  keeps?: (text: string, i: number) => boolean;
  /** Measures each step's candidates: alone by default, or batched with other searches (candidateBatch.ts). */
  evaluate?: CandidateEvaluator;
}

/** Positions at which two equal-length token sequences differ: the edits a seeded dream made. */
export const hamming = (a: number[], b: number[]): number => a.reduce((n, x, i) => n + (x === b[i] ? 0 : 1), 0);

/**
 * The discrete search `fluent` and `seeded` share: each step proposes single-token substitutions per member from the
 * gradient (optionally inside the model's top-p), evaluates every candidate hard, and keeps for each member the best
 * of the pool by its own score; the member itself wins ties, so nothing churns without improving.
 */
export function substitutionSearch(model: GPT2, tok: TextTokenizer, target: Target, objective: Objective, cfg: DreamConfig, init: number[][], opts: SubstitutionOptions): DreamMethod {
  const { lambdas } = opts;
  const scoreOf = opts.score;
  const rand = rng(cfg.seed + 1);
  let pop = lambdas.map((_, i) => init[i % init.length].slice());
  let evals: HardEval[] | null = null;
  // The members' per-token losses, kept from the evaluation that measured them, so their next candidates' shared
  // evaluation skips the members' unembedding (null until the first candidates are measured).
  let losses: number[][] | null = null;
  let forwardEquivalents = pop.length + (opts.initCost ?? 0);
  const evaluate = opts.evaluate ?? directEvaluator(model, tok);
  const allowed = (next: number[], i: number) => {
    if (opts.origins && hamming(next, opts.origins[i]) > (opts.maxEdits ?? Infinity)) return false;
    if (!opts.noRepeat && !opts.keeps) return true;
    const text = tok.decode(next);
    return (!opts.noRepeat || !breaksNoRepeat(text)) && (!opts.keeps || opts.keeps(text, i));
  };
  return {
    name: opts.name,
    async step(): Promise<MethodStep> {
      const P = pop.length;
      const T = pop[0].length;
      const popEvals = evals ?? (await hardEvaluate(model, tok, target, pop, cfg.reduce));
      const options = await proposeTokens(model, objective, pop, lambdas, cfg.topK, cfg.topP, opts.banned);
      const cands: number[][] = [];
      const owner: number[] = [];
      for (let i = 0; i < P; i++) {
        for (let c = 0; c < cfg.candidates; c++) {
          const t = Math.floor(rand() * T);
          const choices = options[i][t];
          if (!choices.length) continue;
          const next = pop[i].slice();
          next[t] = choices[Math.floor(rand() * choices.length)];
          if (!allowed(next, i)) continue;
          cands.push(next);
          owner.push(i);
        }
      }
      // Each candidate is its member's text with one token swapped: only the positions from the swap on are run.
      const shared = cands.length ? await evaluate(target, cands, cfg.reduce, popEvals.map((e) => e.ids), owner, losses ?? undefined) : null;
      const candEvals = shared?.evals ?? [];
      const memberLosses = shared?.baseLosses.length ? shared.baseLosses : null;
      const nextPop: number[][] = [];
      const nextEvals: HardEval[] = [];
      const nextLosses: (number[] | undefined)[] = [];
      lambdas.forEach((lam, i) => {
        // A member competes with its own candidates and, without origins, with every other candidate too.
        let best = { ids: pop[i], e: popEvals[i], loss: memberLosses?.[i] };
        if (!opts.origins) {
          pop.forEach((p, j) => {
            if (scoreOf(popEvals[j], lam) > scoreOf(best.e, lam)) best = { ids: p, e: popEvals[j], loss: memberLosses?.[j] };
          });
        }
        cands.forEach((c, j) => {
          if (opts.origins && owner[j] !== i) return;
          if (scoreOf(candEvals[j], lam) > scoreOf(best.e, lam)) best = { ids: c, e: candEvals[j], loss: shared?.losses[j] };
        });
        nextPop.push(best.ids.slice());
        nextEvals.push(best.e);
        nextLosses.push(best.loss);
      });
      pop = nextPop;
      evals = nextEvals;
      losses = nextLosses.every((l): l is number[] => l !== undefined) ? nextLosses : null;
      forwardEquivalents += 3 * P + cands.length;
      const soft = nextEvals.reduce((a, e) => a + (Number.isFinite(e.value) ? e.value : 0), 0) / P;
      return { soft, fluencyCE: nextEvals.reduce((a, e) => a + e.ce, 0) / P, forwardEquivalents };
    },
    current: async () => pop.map((p) => p.slice()),
    labels: () => opts.labels,
    rank: (e, i) => scoreOf(e, lambdas[i]),
    dispose: () => undefined,
  };
}

export function fluentMethod(
  model: GPT2,
  tok: TextTokenizer,
  target: Target,
  objective: Objective,
  cfg: DreamConfig,
  init: number[][],
  initCost = 0,
  judgeTerm?: JudgeTerm,
  evaluate?: CandidateEvaluator,
): DreamMethod {
  const rho = cfg.repetitionPenalty;
  // With a readability term (ρ or σ), fluent aims at one run of prose: no line breaks or <|endoftext|> proposed
  // (the judge's corpus has paragraph breaks, so σ alone would reward "\n\n" salad).
  const readable = rho > 0 || judgeTerm !== undefined;
  return substitutionSearch(model, tok, target, objective, cfg, init, {
    name: 'fluent',
    lambdas: cfg.lambdas,
    labels: cfg.lambdas.map((l) => `λ=${l}`),
    initCost,
    score: (e: HardEval, lam: number) => searchScore(e, lam, rho, judgeTerm),
    evaluate,
    ...(readable ? { banned: breakingTokens(model, tok) } : {}),
  });
}
