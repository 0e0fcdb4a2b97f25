// Running only what an edit changed: GPT2.run continuing from past keys and values gives the full run's residual
// stream and hooks at the same positions, and measureIdsShared gives measureIds's activations and losses for edited
// copies of a few texts (single swaps at every position, several swaps, a shorter and a longer text, the base
// itself), with fewer positions run; no tensor is left behind.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { measureIds } from '../src-main/dream/hard.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import { chooseStarts, measureIdsShared } from '../src-main/dream/sharedPrefix.js';
import { expectClose, useCpuFixture } from './helpers/cpuFixture.js';

const fixture = useCpuFixture();
const close = expectClose;

describe('shared-prefix evaluation', () => {
  it('a run from past keys and values equals the full run at the same positions', () => {
    const ids = fixture().tokenizer.encode(' The quick brown fox jumps over the lazy dog');
    const P = 4;
    const hook = 'blocks.1.mlp.hook_post';
    const [full, cont, attn] = tf.tidy(() => {
      const all = fixture().model.run({ ids: tf.tensor2d([ids], [1, ids.length], 'int32') }, { hooks: [hook] });
      const head = fixture().model.run({ ids: tf.tensor2d([ids.slice(0, P)], [1, P], 'int32') }, { skipLogits: true, collectKV: true });
      const tail = fixture().model.run({ ids: tf.tensor2d([ids.slice(P)], [1, ids.length - P], 'int32') }, { hooks: [hook, 'blocks.0.attn.hook_pattern'], past: head.kv });
      return [
        [...tf.slice(all.logits!, [0, P, 0], [1, -1, -1]).dataSync(), ...tf.slice(all.cache.get(hook)!, [0, P, 0], [1, -1, -1]).dataSync()],
        [...tail.logits!.dataSync(), ...tail.cache.get(hook)!.dataSync()],
        tail.cache.get('blocks.0.attn.hook_pattern')!.shape,
      ];
    });
    close(cont as number[], full as number[], 2e-4);
    // The pattern of the continued positions spans the past too.
    expect(attn).toEqual([1, 4, ids.length - P, ids.length]);
  });

  it('measureIdsShared equals measureIds for edits of several bases, and runs fewer positions', async () => {
    const tok = fixture().tokenizer;
    const bases = [' The cat sat on the mat while the dog slept', ' In the morning the farmer walked to the market'].map((t) => tok.encode(t));
    const swap = (b: number[], at: number[], id: number) => b.map((x, i) => (at.includes(i) ? id + i : x));
    const seqs: number[][] = [];
    const owner: number[] = [];
    bases.forEach((b, o) => {
      for (let i = 0; i < b.length; i++) (seqs.push(swap(b, [i], 1000 + 7 * o)), owner.push(o));
      seqs.push(swap(b, [2, 5], 3000), b.slice(), b.slice(0, 5), [...b, 262, 3290]);
      owner.push(o, o, o, o);
    });
    const target = neuronTarget(1, 7);
    const before = tf.memory().numTensors;
    const full = await measureIds(fixture().model, tok, target, seqs, 'max');
    const shared = await measureIdsShared(fixture().model, tok, target, seqs, 'max', bases, owner, 4);
    expect(tf.memory().numTensors).toBe(before);
    shared.evals.forEach((e, i) => {
      expect(e.ids).toEqual(full[i].ids);
      close(e.perToken, full[i].perToken, 1e-5);
      expect(Math.abs(e.ce - full[i].ce)).toBeLessThan(1e-5);
      expect(Math.abs(e.value - full[i].value)).toBeLessThan(1e-5);
    });
    // Positions: the bases once plus every candidate from its edit on, against every candidate in full.
    const T = 1 + Math.max(...seqs.map((s) => s.length));
    expect(shared.cost.fullPositions).toBe(seqs.length * T);
    expect(shared.cost.sharedPositions).toBeLessThan(0.75 * shared.cost.fullPositions);
  });

  it('gives every token its loss, and with the bases\' losses given skips their unembedding with the same results', async () => {
    const tok = fixture().tokenizer;
    const bases = [' The cat sat on the mat while the dog slept', ' In the morning the farmer walked'].map((t) => tok.encode(t));
    const seqs: number[][] = [];
    const owner: number[] = [];
    bases.forEach((b, o) => {
      for (const at of [0, 3, b.length - 1]) (seqs.push(b.map((x, i) => (i === at ? 2000 + at : x))), owner.push(o));
      seqs.push(b.slice(0, 4));
      owner.push(o);
    });
    const target = neuronTarget(1, 7);
    const bos = fixture().model.config.bosTokenId;
    // Reference: each text's next-token losses from the full model's logits, one text at a time.
    const reference = (ids: number[]) =>
      tf.tidy(() => {
        const logits = fixture().model.run({ ids: tf.tensor2d([[bos, ...ids]], [1, ids.length + 1], 'int32') }).logits!;
        const logp = tf.logSoftmax(tf.reshape(logits, [ids.length + 1, -1])).arraySync() as number[][];
        return ids.map((id, j) => -logp[j][id]);
      });
    const first = await measureIdsShared(fixture().model, tok, target, seqs, 'max', bases, owner);
    first.losses.forEach((l, i) => close(l, reference(seqs[i]), 1e-4));
    first.baseLosses.forEach((l, o) => close(l, reference(bases[o]), 1e-4));
    const before = tf.memory().numTensors;
    const again = await measureIdsShared(fixture().model, tok, target, seqs, 'max', bases, owner, undefined, first.baseLosses);
    expect(tf.memory().numTensors).toBe(before);
    again.evals.forEach((e, i) => {
      close(e.perToken, first.evals[i].perToken, 1e-6);
      expect(Math.abs(e.ce - first.evals[i].ce)).toBeLessThan(1e-6);
    });
    again.losses.forEach((l, i) => close(l, first.losses[i], 1e-6));
    // Unembedded: per candidate its positions from the edit (at) to its last but one, and once per base and edit
    // position the base's state before the edit; a prefix of its base none.
    const edited = seqs.map((s, i) => ({ s, b: bases[owner[i]], at: s.findIndex((x, j) => x !== bases[owner[i]][j]) })).filter((e) => e.at >= 0);
    expect(again.cost.unembeddedRows).toBe(edited.reduce((a, e) => a + e.s.length - e.at - 1, 0) + new Set(edited.map((e) => `${e.b}@${e.at}`)).size);
    expect(again.cost.unembeddedRows).toBe(2 * 3 + (10 - 0 - 1) + (10 - 3 - 1) + 0 + (6 - 0 - 1) + (6 - 3 - 1) + 0);
    // The given losses are what it reads before each edit: other numbers there change the result.
    const off = await measureIdsShared(fixture().model, tok, target, seqs, 'max', bases, owner, undefined, first.baseLosses.map((l) => l.map((x) => x + 1)));
    expect(off.evals[1].ce).toBeGreaterThan(again.evals[1].ce + 0.1);
    await expect(measureIdsShared(fixture().model, tok, target, seqs, 'max', bases, owner, undefined, [[1]])).rejects.toThrow(/one loss per token of every base/);
  });

  it('refuses a sequence without a base', async () => {
    await expect(measureIdsShared(fixture().model, fixture().tokenizer, neuronTarget(0, 0), [[1, 2]], 'max', [[1, 3]], [1])).rejects.toThrow(/needs the index of its base/);
  });
  it('chooseStarts: the fewest positions in at most maxRuns runs, as an exhaustive search finds them', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const cost = (rows: { p: number; n: number }[], starts: number[]) => {
      const byStart = new Map<number, { p: number; n: number }[]>();
      for (const r of rows) {
        const s = starts.filter((x) => x <= r.p).at(-1)!;
        byStart.set(s, [...(byStart.get(s) ?? []), r]);
      }
      return [...byStart].reduce((a, [s, rs]) => a + rs.length * Math.max(...rs.map((r) => r.n - s + 1)), 0);
    };
    for (let trial = 0; trial < 40; trial++) {
      const rows = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => {
        const n = 6 + Math.floor(rand() * 6);
        return { p: 1 + Math.floor(rand() * n), n };
      });
      const ps = [...new Set(rows.map((r) => r.p))].sort((a, b) => a - b);
      for (const maxRuns of [1, 2, 3, 5]) {
        const got = chooseStarts(rows, maxRuns);
        expect(got[0]).toBe(ps[0]);
        expect(got.length).toBeLessThanOrEqual(maxRuns);
        // Every subset of the distinct first differences that holds the smallest, of at most maxRuns starts.
        let best = Infinity;
        for (let mask = 0; mask < 1 << ps.length; mask++) {
          const starts = ps.filter((_, i) => i === 0 || mask & (1 << i));
          if (starts.length <= maxRuns) best = Math.min(best, cost(rows, starts));
        }
        expect(cost(rows, got)).toBe(best);
      }
    }
    expect(chooseStarts([], 3)).toEqual([]);
  });
});
