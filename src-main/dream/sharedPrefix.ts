// Hard evaluation of edited copies of a few texts, running only what an edit changed. A discrete search evaluates
// many candidates that are a member's text with one token swapped at position p: every position before p reads the
// same tokens as the member, so its keys, values, activations and losses are the member's. Here the members (the
// bases) run once with their keys and values kept; each candidate then runs positions p … end only, attending to
// its base's first p positions. The results equal measureIds's (test/shared-prefix.test.ts checks it to float
// precision); bench/shared-prefix.ts measures the positions and time saved.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { unembedPairLosses } from '../model/ops.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { bosPadded, hardEvalOf, measureIds, retokenise } from './hard.js';
import type { Reduce, Target } from './objectives.js';
import type { HardEval } from './records.js';

export interface SharedPrefixCost {
  /** Token positions a full evaluation of the candidates runs (each after its <|endoftext|>, padded as one batch). */
  fullPositions: number;
  /** Positions run here: the bases once, then each candidate's positions from its first difference on. */
  sharedPositions: number;
  /** Forward runs made (one for the bases, one per distinct first-difference position). */
  runs: number;
  /** States put through the unembedding (one per loss not already known; shared where losses share a state). */
  unembeddedRows: number;
}

/**
 * Suffix runs per call by default. bench/shared-prefix.ts measured the trade: once only the unknown losses are
 * unembedded (most of the work at these lengths, and the same whatever the runs), each further run saves a few
 * positions of the small blocks but costs a forward run's fixed price, so one run from the earliest edit was
 * fastest on the native backend (1.47× full evaluation against 1.22× for 4 runs) and within noise of the best on
 * wasm (1.57× against 1.70× for 2).
 */
export const DEFAULT_MAX_RUNS = 1;

/**
 * Run starts (ascending, the first ≤ every row's first difference) that minimise the positions run, padded per run to
 * its longest row, with at most `maxRuns` starts: dynamic programming over the distinct first differences.
 */
export function chooseStarts(rows: { p: number; n: number }[], maxRuns: number): number[] {
  if (!rows.length) return [];
  const ps = [...new Set(rows.map((r) => r.p))].sort((a, b) => a - b);
  // cost(i, j): rows whose p is in ps[i..j] run from ps[i], padded to the longest.
  const cost = (i: number, j: number) => {
    const inRun = rows.filter((r) => r.p >= ps[i] && r.p <= ps[j]);
    return inRun.length * Math.max(...inRun.map((r) => r.n - ps[i] + 1));
  };
  const K = ps.length;
  const runs = Math.max(1, Math.min(maxRuns, K));
  // best[k][j]: least cost covering ps[0..j] with k runs; from[k][j]: where the last run starts.
  const best = Array.from({ length: runs + 1 }, () => new Array<number>(K).fill(Infinity));
  const from = Array.from({ length: runs + 1 }, () => new Array<number>(K).fill(0));
  for (let j = 0; j < K; j++) best[1][j] = cost(0, j);
  for (let k = 2; k <= runs; k++) {
    for (let j = 0; j < K; j++) {
      best[k][j] = best[k - 1][j];
      from[k][j] = -1;
      for (let i = 1; i <= j; i++) {
        const c = best[k - 1][i - 1] + cost(i, j);
        if (c < best[k][j]) (best[k][j] = c, (from[k][j] = i));
      }
    }
  }
  const out: number[] = [];
  let j = K - 1;
  for (let k = runs; k >= 1 && j >= 0; k--) {
    if (k === 1) {
      out.push(ps[0]);
      break;
    }
    const i = from[k][j];
    if (i < 0) continue;
    out.push(ps[i]);
    j = i - 1;
  }
  return out.sort((a, b) => a - b);
}

/** First absolute position (0 = <|endoftext|>) at which [BOS, ...a] and [BOS, ...b] differ; a.length + 1 when a is a prefix of b. */
function firstDifference(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i + 1;
  return n + 1;
}

/**
 * Measure `seqs` (token ids, as measureIds takes them) where seqs[i] is an edit of bases[owner[i]]. Same results as
 * measureIds(model, tok, target, seqs, reduce); `cost` counts what was run.
 */
export async function measureIdsShared(
  model: GPT2,
  tok: TextTokenizer,
  /** What to measure: one target for every row, or one per base (candidates are measured on their base's). */
  target: Target | readonly Target[],
  seqs: number[][],
  reduce: Reduce,
  bases: number[][],
  owner: number[],
  maxRuns = DEFAULT_MAX_RUNS,
  /**
   * Each base's per-token losses (`losses` of the call that measured it), when the caller has them: then the bases
   * run for their keys, values and activations only, and the one unembedding pass (most of the work at these
   * lengths) covers the candidates' new positions alone. An undefined entry: that base's losses are computed here.
   */
  baseLosses?: readonly (number[] | undefined)[],
): Promise<{ evals: HardEval[]; cost: SharedPrefixCost; losses: number[][]; baseLosses: number[][] }> {
  const ctx = model.config.nPositions;
  const bos = model.config.bosTokenId;
  const rows = seqs.map((s) => s.slice(0, ctx - 1));
  const baseRows = bases.map((s) => s.slice(0, ctx - 1));
  const targets: readonly Target[] = Array.isArray(target) ? target : baseRows.map(() => target as Target);
  if (targets.length !== baseRows.length) throw new RangeError('measureIdsShared: give one target, or one per base');
  if (!rows.length) return { evals: [], cost: { fullPositions: 0, sharedPositions: 0, runs: 0, unembeddedRows: 0 }, losses: [], baseLosses: [] };
  if (baseLosses && (baseLosses.length !== baseRows.length || baseLosses.some((l, o) => l !== undefined && l.length !== baseRows[o].length))) {
    throw new RangeError('measureIdsShared: baseLosses must hold one loss per token of every base');
  }
  if (owner.length !== rows.length || owner.some((o) => !(o >= 0 && o < baseRows.length))) throw new RangeError('measureIdsShared: every sequence needs the index of its base');
  if (rows.some((r) => !r.length) || baseRows.some((r) => !r.length)) {
    // Empty texts score NaN in measureIds; nothing to share.
    const evals: HardEval[] = new Array(rows.length);
    for (const t of new Set(targets)) {
      const mine = rows.map((_, i) => i).filter((i) => targets[owner[i]] === t);
      (await measureIds(model, tok, t, mine.map((i) => rows[i]), reduce)).forEach((e, k) => (evals[mine[k]] = e));
    }
    const T = 1 + Math.max(1, ...rows.map((r) => r.length));
    // No per-token losses here: a search that gets none measures its next bases in full.
    return { evals, cost: { fullPositions: rows.length * T, sharedPositions: rows.length * T, runs: 1, unembeddedRows: rows.length * T }, losses: [], baseLosses: [] };
  }
  // Targets read from the same runs: every distinct one on every row (a slice each), each row keeping its base's.
  const distinct = [...new Set(targets)];
  const which = targets.map((t) => distinct.indexOf(t));
  const hooks = [...new Set(distinct.flatMap((t) => t.hooks))];

  const p = rows.map((r, i) => firstDifference(r, baseRows[owner[i]]));
  // Row r runs positions s … n (n = its length, counted after the BOS at 0) for a start s ≤ its first difference:
  // none when r is a prefix of its base. Each distinct start is one more forward run, whose fixed cost can exceed
  // the positions it saves, so the starts are chosen to run the fewest positions in at most `maxRuns` runs (by
  // default one, from the earliest edit: DEFAULT_MAX_RUNS).
  const starts = chooseStarts(rows.map((r, i) => ({ p: p[i], n: r.length })).filter((x) => x.p <= x.n), maxRuns);
  const groups = new Map<number, number[]>();
  rows.forEach((r, i) => {
    if (p[i] > r.length) return;
    const s = starts.filter((x) => x <= p[i]).at(-1)!;
    groups.set(s, [...(groups.get(s) ?? []), i]);
  });

  const { ids: baseIds, T: Tb } = bosPadded(baseRows, bos);
  const nb = baseRows.length;

  // Per row: activation at absolute positions 1..n and loss at positions 0..n−1.
  const act: number[][] = rows.map((r) => new Array<number>(r.length));
  const ce: number[][] = rows.map((r) => new Array<number>(r.length));
  const bLoss: number[][] = baseRows.map((r, o) => baseLosses?.[o] ?? new Array<number>(r.length));

  // The losses still unknown, as (state row, target) pairs for one unembedding pass, the most work at these lengths:
  // a base's positions when its losses were not given; per candidate, its positions from the edit to its last but
  // one (the last predicts nothing; those before the edit are its base's); and the base's state just before the
  // edit, which predicts the edited token — one state for every candidate of that base edited there.
  // dest: where each pair's loss goes (i ≥ 0: candidate i; i < 0: base −1 − i) at position j.
  const pairs: { row: number; target: number; i: number; j: number }[] = [];
  let states = 0;
  const baseGather: number[] = [];
  const baseState = new Map<number, number>(); // base position o·Tb + j → state row
  // A base state's row among the unembedded ones: with no losses given, every base position is (in order); else
  // the states are gathered as needed.
  const baseStateRow = (at: number) => {
    if (!baseLosses) return at;
    let row = baseState.get(at);
    if (row === undefined) (baseState.set(at, (row = states++)), baseGather.push(at));
    return row;
  };
  if (!baseLosses) states = nb * Tb;
  baseRows.forEach((r, o) => {
    if (!baseLosses || !baseLosses[o]) r.forEach((t, j) => pairs.push({ row: baseStateRow(o * Tb + j), target: t, i: -1 - o, j }));
  });
  rows.forEach((r, i) => {
    if (p[i] > r.length) return;
    pairs.push({ row: baseStateRow(owner[i] * Tb + p[i] - 1), target: r[p[i] - 1], i, j: p[i] - 1 });
  });
  const plan = [...groups].map(([pos, members]) => {
    const L = Math.max(...members.map((i) => rows[i].length - pos + 1));
    const gather: number[] = [];
    members.forEach((i, b) => {
      for (let abs = p[i]; abs < rows[i].length; abs++) {
        gather.push(b * L + abs - pos);
        pairs.push({ row: states++, target: rows[i][abs], i, j: abs });
      }
    });
    return { pos, members, L, gather };
  });

  const out = tf.tidy(() => {
    const run = model.run({ ids: tf.tensor2d(baseIds, [nb, Tb], 'int32') }, { skipLogits: true, hooks, collectKV: true });
    const d = model.config.dModel;
    const norm = (x: tf.Tensor3D, n: number) => tf.reshape(model.finalNorm(x), [n, d]) as tf.Tensor2D;
    const normed = norm(run.resid, nb * Tb);
    const baseAct = distinct.map((t) => t.perToken(run.cache));
    const parts: tf.Tensor2D[] = [];
    if (!baseLosses) parts.push(normed);
    else if (baseGather.length) parts.push(tf.gather(normed, tf.tensor1d(baseGather, 'int32')));
    const suffixes: tf.Tensor[][] = [];
    for (const { pos, members, L, gather } of plan) {
      const ids = new Int32Array(members.length * L).fill(bos);
      members.forEach((i, b) => {
        const r = rows[i];
        for (let j = 0; j < L && pos + j <= r.length; j++) ids[b * L + j] = r[pos + j - 1]; // absolute position pos + j
      });
      const who = tf.tensor1d(members.map((i) => owner[i]), 'int32');
      const past = {
        k: run.kv!.k.map((k) => tf.slice(tf.gather(k, who), [0, 0, 0, 0], [-1, -1, pos, -1]) as tf.Tensor4D),
        v: run.kv!.v.map((v) => tf.slice(tf.gather(v, who), [0, 0, 0, 0], [-1, -1, pos, -1]) as tf.Tensor4D),
      };
      const sr = model.run({ ids: tf.tensor2d(ids, [members.length, L], 'int32') }, { skipLogits: true, hooks, past });
      if (gather.length) parts.push(tf.gather(norm(sr.resid, members.length * L), tf.tensor1d(gather, 'int32')));
      suffixes.push(distinct.map((t) => t.perToken(sr.cache)));
    }
    const loss = pairs.length
      ? unembedPairLosses(
          parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D),
          model.weights.unembed,
          tf.tensor1d(pairs.map((q) => q.row), 'int32'),
          tf.tensor1d(pairs.map((q) => q.target), 'int32'),
        )
      : tf.zeros([0]);
    return { baseAct, loss, suffixes };
  });
  try {
    const bAct = (await Promise.all(out.baseAct.map((a) => a.array()))) as number[][][];
    const losses = (await out.loss.data()) as Float32Array;
    pairs.forEach((q, k) => ((q.i < 0 ? bLoss[-1 - q.i] : ce[q.i])[q.j] = losses[k]));
    rows.forEach((r, i) => {
      const o = owner[i];
      for (let j = 1; j <= r.length && j < p[i]; j++) act[i][j - 1] = bAct[which[o]][o][j];
      // Equal to the base's while the token predicted is the base's too.
      for (let j = 0; j < r.length && j + 1 < p[i]; j++) ce[i][j] = bLoss[o][j];
    });
    for (let g = 0; g < plan.length; g++) {
      const { pos, members } = plan[g];
      const a = (await Promise.all(out.suffixes[g].map((x) => x.array()))) as number[][][];
      members.forEach((i, b) => {
        const mine = a[which[owner[i]]];
        for (let j = 0; j + pos <= rows[i].length; j++) act[i][pos + j - 1] = mine[b][j];
      });
    }
  } finally {
    tf.dispose([...out.baseAct, out.loss, ...out.suffixes.flat()]);
  }
  const evals = rows.map((r, i) => hardEvalOf(tok, r, act[i], ce[i], reduce));
  const fullPositions = rows.length * (1 + Math.max(1, ...rows.map((r) => r.length)));
  const sharedPositions = nb * Tb + plan.reduce((a, g) => a + g.members.length * g.L, 0);
  return { evals, cost: { fullPositions, sharedPositions, runs: 1 + plan.length, unembeddedRows: states }, losses: ce, baseLosses: bLoss };
}

/**
 * hardEvaluate with shared prefixes: each candidate re-tokenised, then measureIdsShared. `bases` are measured ids
 * already (a HardEval's `ids`, re-tokenised when they were measured), so they are not re-tokenised again.
 */
export function hardEvaluateShared(model: GPT2, tok: TextTokenizer, target: Target | readonly Target[], seqs: number[][], ...rest: SharedTail) {
  return measureIdsShared(model, tok, target, seqs.map((s) => retokenise(tok, s)), ...rest);
}

/** measureIdsShared's arguments after the sequences: reduce, bases, owner, maxRuns, baseLosses. */
type SharedTail = Parameters<typeof measureIdsShared> extends [unknown, unknown, unknown, unknown, ...infer R] ? R : never;
