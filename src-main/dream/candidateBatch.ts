// Candidate evaluation for discrete searches, alone or batched across searches. A search (fluent, seeded) hands its
// candidates — edits of its members — to a CandidateEvaluator. Alone, that is hardEvaluateShared. Several searches
// of targets read from the same forward pass (neurons of one layer) can share one: the lockstep evaluator waits
// until every search still running has handed in its step's candidates, then measures them all in one batch. The
// batch of a round is always the same searches in the same order (not whoever arrived first), so a search's
// results depend only on the group it runs in, never on timing.
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { Reduce, Target } from './objectives.js';
import { DEFAULT_MAX_RUNS, hardEvaluateShared, type SharedPrefixCost } from './sharedPrefix.js';
import type { HardEval } from './records.js';

export interface CandidateResult {
  evals: HardEval[];
  /** Per candidate, its per-token losses. */
  losses: number[][];
  /** Per base, its per-token losses (given or computed). */
  baseLosses: number[][];
  /** What the evaluation ran: for a batched one, the whole batch's. */
  cost: SharedPrefixCost;
}

/** Hard evaluation of `seqs`, each an edit of bases[owner[i]] (ids as measured before: not re-tokenised). */
export type CandidateEvaluator = (target: Target, seqs: number[][], reduce: Reduce, bases: number[][], owner: number[], baseLosses?: number[][]) => Promise<CandidateResult>;

/** Each search's candidates on their own. */
export function directEvaluator(model: GPT2, tok: TextTokenizer): CandidateEvaluator {
  return (target, seqs, reduce, bases, owner, baseLosses) => hardEvaluateShared(model, tok, target, seqs, reduce, bases, owner, DEFAULT_MAX_RUNS, baseLosses);
}

interface Request {
  target: Target;
  seqs: number[][];
  reduce: Reduce;
  bases: number[][];
  owner: number[];
  baseLosses?: number[][];
  resolve(r: CandidateResult): void;
  reject(e: unknown): void;
}

export interface LockstepMember {
  evaluate: CandidateEvaluator;
  /** This search is done (or failed): the others no longer wait for it. Call it once, in a `finally`. */
  leave(): void;
}

/**
 * One evaluator for `size` searches run together. Each round, every member still in hands in one request (or
 * leaves); the round is then measured as one batch, members in index order. Members with different `reduce`
 * settings are measured in one batch per setting.
 */
export class LockstepEvaluator {
  private readonly inGroup: boolean[];
  private readonly pending = new Map<number, Request>();
  private flushing = false;
  /** Batches measured, the candidates in them and the milliseconds spent measuring (bench/layer-batch.ts reads them). */
  readonly stats = { batches: 0, candidates: 0, ms: 0 };

  constructor(
    private readonly model: GPT2,
    private readonly tok: TextTokenizer,
    size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a lockstep group needs at least one member, got ${size}`);
    this.inGroup = new Array<boolean>(size).fill(true);
  }

  member(index: number): LockstepMember {
    if (!(index >= 0 && index < this.inGroup.length)) throw new RangeError(`member ${index} is not in this group of ${this.inGroup.length}`);
    return {
      evaluate: (target, seqs, reduce, bases, owner, baseLosses) =>
        new Promise<CandidateResult>((resolve, reject) => {
          if (!this.inGroup[index]) return reject(new Error(`lockstep member ${index} evaluated after it left`));
          if (this.pending.has(index)) return reject(new Error(`lockstep member ${index} asked twice in one round`));
          this.pending.set(index, { target, seqs, reduce, bases, owner, baseLosses, resolve, reject });
          this.maybeFlush();
        }),
      leave: () => {
        if (!this.inGroup[index]) return;
        this.inGroup[index] = false;
        this.maybeFlush();
      },
    };
  }

  private maybeFlush(): void {
    const waiting = this.inGroup.filter(Boolean).length;
    if (this.flushing || !this.pending.size || this.pending.size < waiting) return;
    const round = [...this.pending.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
    this.pending.clear();
    this.flushing = true;
    void this.measure(round).finally(() => {
      this.flushing = false;
      this.maybeFlush();
    });
  }

  private async measure(round: Request[]): Promise<void> {
    for (const reduce of [...new Set(round.map((r) => r.reduce))]) {
      const part = round.filter((r) => r.reduce === reduce);
      try {
        const seqs: number[][] = [];
        const bases: number[][] = [];
        const owner: number[] = [];
        const targets: Target[] = [];
        const baseLosses: (number[] | undefined)[] = [];
        for (const r of part) {
          r.seqs.forEach((s, i) => (seqs.push(s), owner.push(bases.length + r.owner[i])));
          r.bases.forEach((b, o) => (bases.push(b), targets.push(r.target), baseLosses.push(r.baseLosses?.[o])));
        }
        const known = baseLosses.some((l) => l !== undefined);
        const t0 = performance.now();
        const out = await hardEvaluateShared(this.model, this.tok, targets, seqs, reduce, bases, owner, DEFAULT_MAX_RUNS, known ? baseLosses : undefined);
        this.stats.batches++;
        this.stats.candidates += seqs.length;
        this.stats.ms += performance.now() - t0;
        let s = 0;
        let b = 0;
        for (const r of part) {
          const n = r.seqs.length;
          const m = r.bases.length;
          r.resolve({
            evals: out.evals.slice(s, s + n),
            losses: out.losses.slice(s, s + n),
            baseLosses: out.baseLosses.slice(b, b + m),
            cost: out.cost,
          });
          s += n;
          b += m;
        }
      } catch (e) {
        for (const r of part) r.reject(e);
      }
    }
  }
}
