// `fluent`: discrete search trading activation against fluency, in the spirit of EPO. A population holds one
// member per λ; each step proposes single-token substitutions from the gradient of (activation − λ·CE)
// w.r.t. one-hot tokens (optionally only among the model's own top-p next tokens), evaluates every
// candidate exactly (hard: decoded, re-tokenised, run), and keeps for each λ the best of the pool.
import * as tf from '@tensorflow/tfjs-core';
import { rng, shuffle } from '../corpus/rng.js';
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
export async function proposeTokens(
  model: GPT2,
  objective: Objective,
  pop: number[][],
  lambdas: number[],
  topK: number,
  topP: number,
  banned?: Set<number>,
  plausibleCount = 0,
): Promise<{ options: number[][][]; plausible: number[][][] }> {
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
  // Each position's nucleus by descending probability, up to plausibleCount tokens (not banned).
  let plausibleRows: number[][] = [];
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
    if (plausibleCount > 0) plausibleRows = allowed.map((set) => [...set].filter((id) => !banned?.has(id)).slice(0, plausibleCount));
  }
  const perMember = (rowOf: (r: number) => number[]) => Array.from({ length: P }, (_, i) => Array.from({ length: T }, (_, t) => rowOf(i * T + t)));
  return {
    options: perMember((r) => {
      const row = gainRows[r];
      const free = banned ? row.filter((id) => !banned.has(id)) : row;
      const ok = allowed ? free.filter((id) => allowed![r].has(id)) : free;
      return (ok.length ? ok : free).slice(0, topK);
    }),
    plausible: perMember((r) => plausibleRows[r] ?? []),
  };
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
  /**
   * Where candidates are drawn (seeded): with `max`, this share of each member's candidates at or before its peak
   * token (a later token cannot change the peak, only make a new one; the rest still try that), and a refused or
   * repeated candidate is drawn again (up to 8 tries per candidate) instead of leaving its place empty.
   */
  focus?: { peakShare: number };
  /**
   * Fresh starts (seeded: the seeds after the first ones, as origins): a member no candidate has beaten for `patience`
   * steps starts again from the next one, so the budget goes to searches that still move. A patience of at least the
   * loop's record interval means the state left behind was recorded. `onRestart(member, k)`: it took fresh start k.
   */
  restarts?: { starts: number[][]; patience: number; onRestart(member: number, k: number): void };
  /**
   * Insertions beside swaps (seeded --insert-words): this share of candidates inserts one of `tokens` after the
   * first token (at or before the peak, with focus), the text keeping its length (its last token pushed out).
   */
  insert?: {
    tokens: number[];
    share: number;
    /**
     * Sweep first: a member that takes up a start (the first or a fresh one) first tries every insertion of every
     * token at every position (focus or not), in a shuffled order, `candidates` a step, before it draws as above;
     * it takes up no fresh start until its sweep is done. A plain inserted word is the edit readers accept most
     * often, and drawn at random a seed's few good insertions were mostly never tried before its member moved on.
     */
    sweep?: boolean;
  };
  /**
   * Swaps swept first too (seeded --swap-order sweep): a member that takes up a start first tries, at each position
   * after the first (whatever the focus), each of its proposals and of the `plausible` tokens the model finds
   * likeliest there (inside its top-p), once, in the order of `withSwapSweep`, before it draws at random. Drawn at
   * random among the gradient's proposals alone, a seed's few swaps that read well ("By June 7" -> "By September 7")
   * were mostly never tried: the gradient's linear guess ranks them low.
   */
  swapSweep?: { plausible: number; share?: number };
  /**
   * Deletions beside swaps (seeded): this share of candidates deletes a token that passes `deletable`, after the first
   * (at or before the peak, with focus), the text keeping its length by pulling in the first token of its member's
   * tail (the tokens that follow it in its document: `tails`, per origin).
   */
  delete?: { share: number; deletable: (id: number) => boolean };
  /** A candidate's edits from its origin, given the tokens that follow the origin (with insertions or deletions); hamming when absent. */
  edits?: (origin: number[], ids: number[], originTail: number[]) => number;
  /** The tokens that follow each origin (each init) in its document, and each restart's start (`restarts.starts`). */
  tails?: { init: number[][]; starts?: number[][] };
}

/**
 * A member's sweep with its swaps added, as a stack (the next edit last). The swaps: at each position after the first,
 * the gradient's proposals (`options`, best first), then the likeliest tokens the model gives there (`plausible`), in
 * rounds by rank (every position's first, then every position's second, …), the positions at or before the peak
 * (`last`) first in each round, so the edits the search would draw anyway come first and a budget that runs out has
 * tried each position alike. Insertions already in the sweep alternate with the swaps.
 */
export function withSwapSweep(sweep: SweepEdit[], ids: number[], options: number[][], plausible: number[][], last: number): SweepEdit[] {
  const T = ids.length;
  const perPosition = Array.from({ length: T }, (_, t) => (t === 0 ? [] : [...new Set([...options[t], ...plausible[t]])].filter((w) => w !== ids[t])));
  const positions = [...Array.from({ length: last }, (_, k) => k + 1), ...Array.from({ length: T - 1 - last }, (_, k) => last + 1 + k)];
  const swaps: SweepEdit[] = [];
  for (let r = 0; positions.some((t) => r < perPosition[t].length); r++) for (const t of positions) if (r < perPosition[t].length) swaps.push(['swap', t, perPosition[t][r]]);
  const inserts = sweep.slice().reverse();
  const order: SweepEdit[] = [];
  for (let k = 0; k < Math.max(swaps.length, inserts.length); k++) {
    if (k < swaps.length) order.push(swaps[k]);
    if (k < inserts.length) order.push(inserts[k]);
  }
  return order.reverse();
}

/** One edit of a sweep: insert or swap in token `w` at position `t`. */
export type SweepEdit = ['insert' | 'swap', number, number];

/** Tokens a member's tail keeps: what deletions may pull in, and what insertions pushed out. */
const MAX_TAIL = 4;

/**
 * The token of `ids` where a measured sequence peaks: the first position of its highest value. The evaluation read
 * the re-tokenised text; if that has another length, every position counts as before the peak.
 */
export function peakPosition(e: HardEval, ids: number[]): number {
  if (e.perToken.length !== ids.length || !e.perToken.length) return ids.length - 1;
  let at = 0;
  e.perToken.forEach((v, t) => {
    if (v > e.perToken[at]) at = t;
  });
  return at;
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
  // Each member's origin, replaced when it starts afresh.
  const origins = opts.origins?.map((o) => o.slice());
  // What follows each member's text, and its origin's, in the document (empty without opts.tails).
  let tails = lambdas.map((_, i) => opts.tails?.init[i % opts.tails.init.length]?.slice(0, MAX_TAIL) ?? []);
  const originTails = tails.map((t) => t.slice());
  const restarts = opts.restarts;
  const still = lambdas.map(() => 0);
  let nextStart = 0;
  // Each member's edits left to sweep, [kind, position, token] (empty without insert.sweep or swapSweep). Its swaps
  // come from a step's proposals, so a member that takes up a start is marked and its sweep filled at its next step.
  const sweeps: SweepEdit[][] = lambdas.map(() => []);
  const swapsDue = lambdas.map(() => false);
  const fillSweep = (i: number) => {
    const ins = opts.insert;
    swapsDue[i] = opts.swapSweep !== undefined;
    if (!ins?.sweep) return;
    const all: ['insert', number, number][] = [];
    for (let t = 1; t < pop[i].length; t++) for (const w of ins.tokens) all.push(['insert', t, w]);
    sweeps[i] = shuffle(all, rand);
  };
  lambdas.forEach((_, i) => fillSweep(i));
  const allowed = (next: number[], i: number) => {
    if (origins && (opts.edits ? opts.edits(origins[i], next, originTails[i]) : hamming(next, origins[i])) > (opts.maxEdits ?? Infinity)) return false;
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
      const { options, plausible } = await proposeTokens(model, objective, pop, lambdas, cfg.topK, cfg.topP, opts.banned, opts.swapSweep?.plausible ?? 0);
      const cands: number[][] = [];
      const candTails: number[][] = [];
      const owner: number[] = [];
      for (let i = 0; i < P; i++) {
        // Without focus: `candidates` draws, a refused one left empty (fluent's search, as its figures were made).
        const focus = opts.focus;
        const peak = focus && cfg.reduce === 'max' ? peakPosition(popEvals[i], pop[i]) : T - 1;
        const tried = focus ? new Set<string>([pop[i].join(',')]) : null;
        let made = 0;
        // After the first token (the sentence's start stays), at or before the peak.
        const last = focus ? Math.max(1, Math.min(peak, T - 1)) : T - 1;
        // A candidate joins the step's pool unless it was drawn already this step or is refused (then it costs nothing).
        const offer = (next: number[], tail: number[]) => {
          if (tried) {
            const key = next.join(',');
            if (tried.has(key)) return;
            tried.add(key);
          }
          if (!allowed(next, i)) return;
          cands.push(next);
          candTails.push(tail);
          owner.push(i);
          made++;
        };
        // Token w inserted at t: the last token goes to the front of the tail.
        const inserted = (t: number, w: number): [number[], number[]] => [[...pop[i].slice(0, t), w, ...pop[i].slice(t, T - 1)], [pop[i][T - 1], ...tails[i]].slice(0, MAX_TAIL)];
        // Token w in place of the one at t.
        const swapped = (t: number, w: number) => pop[i].map((x, p) => (p === t ? w : x));
        if (swapsDue[i]) {
          swapsDue[i] = false;
          sweeps[i] = withSwapSweep(sweeps[i], pop[i], options[i], plausible[i], last);
        }
        // A sweep's edits first, at every position: an insertion shifts every later token, so one after the peak can
        // make a higher one ("Farmers called their other mule-drawn pickup trucks"), and so can a swap.
        // With a share (seeded --swap-order mixed), the sweep takes only that share of a step's candidates and the
        // random draw the rest, so neither stream's finds wait for the other's.
        const sweepCap = opts.swapSweep?.share === undefined ? cfg.candidates : Math.max(1, Math.round(opts.swapSweep.share * cfg.candidates));
        while (made < sweepCap && sweeps[i].length) {
          const [kind, t, w] = sweeps[i].pop()!;
          if (kind === 'insert') offer(...inserted(t, w));
          else if (pop[i][t] !== w) offer(swapped(t, w), tails[i]);
        }
        for (let tries = 0; made < cfg.candidates && tries < (focus ? 8 : 1) * cfg.candidates; tries++) {
          let next: number[];
          let tail = tails[i];
          // One draw decides the kind of edit (none without insertions or deletions, as before either existed).
          const kind = opts.insert || opts.delete ? rand() : 1;
          const deletable = opts.delete && tail.length && kind >= (opts.insert?.share ?? 0) && kind < (opts.insert?.share ?? 0) + opts.delete.share
            ? Array.from({ length: Math.min(last, T - 1) }, (_, k) => k + 1).filter((t) => opts.delete!.deletable(pop[i][t]))
            : [];
          if (opts.insert && T > 1 && kind < opts.insert.share) {
            const t = 1 + Math.floor(rand() * last);
            [next, tail] = inserted(t, opts.insert.tokens[Math.floor(rand() * opts.insert.tokens.length)]);
          } else if (deletable.length) {
            // The tail's first token comes in at the end.
            const t = deletable[Math.floor(rand() * deletable.length)];
            next = [...pop[i].slice(0, t), ...pop[i].slice(t + 1), tail[0]];
            tail = tail.slice(1);
          } else {
            const t = focus && rand() < focus.peakShare ? Math.floor(rand() * (peak + 1)) : Math.floor(rand() * T);
            const choices = options[i][t];
            if (!choices.length) continue;
            next = swapped(t, choices[Math.floor(rand() * choices.length)]);
          }
          offer(next, tail);
        }
      }
      // Each candidate is its member's text with one token swapped, inserted or deleted: only the positions from the edit on are run.
      const shared = cands.length ? await evaluate(target, cands, cfg.reduce, popEvals.map((e) => e.ids), owner, losses ?? undefined) : null;
      const candEvals = shared?.evals ?? [];
      const memberLosses = shared?.baseLosses.length ? shared.baseLosses : null;
      const nextPop: number[][] = [];
      const nextTails: number[][] = [];
      const nextEvals: HardEval[] = [];
      const nextLosses: (number[] | undefined)[] = [];
      lambdas.forEach((lam, i) => {
        // A member competes with its own candidates and, without origins, with every other candidate too.
        let best = { ids: pop[i], tail: tails[i], e: popEvals[i], loss: memberLosses?.[i] };
        if (!origins) {
          pop.forEach((p, j) => {
            if (scoreOf(popEvals[j], lam) > scoreOf(best.e, lam)) best = { ids: p, tail: tails[j], e: popEvals[j], loss: memberLosses?.[j] };
          });
        }
        cands.forEach((c, j) => {
          if (origins && owner[j] !== i) return;
          if (scoreOf(candEvals[j], lam) > scoreOf(best.e, lam)) best = { ids: c, tail: candTails[j], e: candEvals[j], loss: shared?.losses[j] };
        });
        nextPop.push(best.ids.slice());
        nextTails.push(best.tail.slice());
        nextEvals.push(best.e);
        nextLosses.push(best.loss);
      });
      forwardEquivalents += 3 * P + cands.length;
      if (restarts) {
        const fresh: number[] = [];
        nextPop.forEach((ids, i) => {
          still[i] = hamming(ids, pop[i]) === 0 && ids.length === pop[i].length ? still[i] + 1 : 0;
          if (still[i] < restarts.patience || sweeps[i].length || swapsDue[i] || nextStart >= restarts.starts.length) return;
          const k = nextStart++;
          nextPop[i] = restarts.starts[k].slice();
          nextTails[i] = opts.tails?.starts?.[k]?.slice(0, MAX_TAIL) ?? [];
          originTails[i] = nextTails[i].slice();
          if (origins) origins[i] = restarts.starts[k].slice();
          nextLosses[i] = undefined;
          still[i] = 0;
          fresh.push(i);
          fillSweep(i);
          restarts.onRestart(i, k);
        });
        if (fresh.length) {
          const measured = await hardEvaluate(model, tok, target, fresh.map((i) => nextPop[i]), cfg.reduce);
          fresh.forEach((i, j) => (nextEvals[i] = measured[j]));
          forwardEquivalents += fresh.length;
        }
      }
      pop = nextPop;
      tails = nextTails;
      evals = nextEvals;
      losses = nextLosses.every((l): l is number[] => l !== undefined) ? nextLosses : null;
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
