// Candidates of several neurons' searches measured in one batch: measureIdsShared with a target per base equals one
// call per target; the lockstep evaluator batches one request per member per round, in member order, and goes on
// without members that left; dreams run together equal the same dreams run alone (the cpu backend's arithmetic does
// not depend on the batch), are deterministic, stop on the signal and leave no tensor behind.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { directEvaluator, LockstepEvaluator } from '../src-main/dream/candidateBatch.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import type { DreamResult } from '../src-main/dream/records.js';
import { dreamToEnd, runDream } from '../src-main/dream/run.js';
import { measureIds } from '../src-main/dream/hard.js';
import { seedPoolDocuments, seedSourceFrom } from '../src-main/dream/seedPool.js';
import { seedWindows } from '../src-main/dream/seeded.js';
import { measureIdsShared } from '../src-main/dream/sharedPrefix.js';
import { dreamTogether } from '../src-main/dream/together.js';
import { expectClose, useCpuFixture } from './helpers/cpuFixture.js';

const fixture = useCpuFixture();
const close = expectClose;

/** Single swaps of each base at a few positions. */
function editsOf(bases: number[][], at: number[], id: number) {
  const seqs: number[][] = [];
  const owner: number[] = [];
  bases.forEach((b, o) => at.forEach((p) => (seqs.push(b.map((x, i) => (i === p ? id + o : x))), owner.push(o))));
  return { seqs, owner };
}

describe('batching candidates across neurons of a layer', () => {
  it('measureIdsShared with a target per base equals one call per target, with some bases\' losses given', async () => {
    const tok = fixture().tokenizer;
    const texts = [[' The cat sat on the mat while the dog slept'], [' In the morning the farmer walked to town', ' She said that it was late']];
    const targets = [neuronTarget(1, 7), neuronTarget(1, 30)];
    const parts = texts.map((ts) => ts.map((t) => tok.encode(t)));
    const alone = await Promise.all(
      parts.map(async (bases, g) => {
        const { seqs, owner } = editsOf(bases, [0, 2, 5], 900 + g);
        return { seqs, owner, bases, out: await measureIdsShared(fixture().model, tok, targets[g], seqs, 'max', bases, owner) };
      }),
    );
    // All together: the first neuron's base with its losses known, the second's without.
    const bases = alone.flatMap((a) => a.bases);
    const seqs = alone.flatMap((a) => a.seqs);
    const owner = [...alone[0].owner, ...alone[1].owner.map((o) => o + alone[0].bases.length)];
    const perBase = [targets[0], targets[1], targets[1]];
    const given = [alone[0].out.baseLosses[0], undefined, undefined];
    const before = tf.memory().numTensors;
    const joint = await measureIdsShared(fixture().model, tok, perBase, seqs, 'max', bases, owner, undefined, given);
    expect(tf.memory().numTensors).toBe(before);
    const separate = alone.flatMap((a) => a.out.evals);
    joint.evals.forEach((e, i) => {
      close(e.perToken, separate[i].perToken, 1e-5);
      expect(Math.abs(e.ce - separate[i].ce)).toBeLessThan(1e-5);
    });
    close(joint.baseLosses.flat(), alone.flatMap((a) => a.out.baseLosses).flat(), 1e-5);
    // The two neurons differ on these texts: a mix-up of targets would show.
    expect(separate[0].perToken).not.toEqual((await measureIdsShared(fixture().model, tok, targets[1], alone[0].seqs, 'max', alone[0].bases, alone[0].owner)).evals[0].perToken);
    await expect(measureIdsShared(fixture().model, tok, [targets[0]], seqs, 'max', bases, owner)).rejects.toThrow(/one per base/);
  });

  it('the lockstep evaluator measures one request per member per round, in member order, and goes on without those that left', async () => {
    const tok = fixture().tokenizer;
    const direct = directEvaluator(fixture().model, tok);
    const batch = new LockstepEvaluator(fixture().model, tok, 3);
    const [a, b, c] = [0, 1, 2].map((i) => batch.member(i));
    const base = [tok.encode(' The cat sat on the mat'), tok.encode(' He walked home')];
    const req = (g: number) => ({ target: neuronTarget(1, 3 + g), ...editsOf([base[g % 2]], [1, 3], 700 + g), bases: [base[g % 2]] });
    const r = [0, 1, 2].map(req);
    // Member 2 arrives first, 0 last: nothing is measured until all three are in.
    const p2 = c.evaluate(r[2].target, r[2].seqs, 'max', r[2].bases, r[2].owner);
    const p1 = b.evaluate(r[1].target, r[1].seqs, 'max', r[1].bases, r[1].owner);
    await new Promise((res) => setTimeout(res, 20));
    expect(batch.stats.batches).toBe(0);
    await expect(b.evaluate(r[1].target, r[1].seqs, 'max', r[1].bases, r[1].owner)).rejects.toThrow(/asked twice/);
    const p0 = a.evaluate(r[0].target, r[0].seqs, 'max', r[0].bases, r[0].owner);
    const got = await Promise.all([p0, p1, p2]);
    expect(batch.stats).toMatchObject({ batches: 1, candidates: 6 });
    for (let g = 0; g < 3; g++) {
      const want = await direct(r[g].target, r[g].seqs, 'max', r[g].bases, r[g].owner);
      got[g].evals.forEach((e, i) => close(e.perToken, want.evals[i].perToken, 1e-5));
    }
    // Member 1 leaves: the next round is 0 and 2 alone.
    b.leave();
    const next = await Promise.all([a.evaluate(r[0].target, r[0].seqs, 'max', r[0].bases, r[0].owner), c.evaluate(r[2].target, r[2].seqs, 'max', r[2].bases, r[2].owner)]);
    expect(batch.stats).toMatchObject({ batches: 2, candidates: 10 });
    close(next[1].evals[0].perToken, got[2].evals[0].perToken, 1e-6);
    await expect(b.evaluate(r[1].target, r[1].seqs, 'max', r[1].bases, r[1].owner)).rejects.toThrow(/after it left/);
    // A member waiting while another is still at work is measured once that one leaves.
    const waiting = a.evaluate(r[0].target, r[0].seqs, 'max', r[0].bases, r[0].owner);
    await new Promise((res) => setTimeout(res, 20));
    expect(batch.stats.batches).toBe(2);
    c.leave();
    await waiting;
    expect(batch.stats.batches).toBe(3);
  });

  const request = (neuron: number, method: 'fluent' | 'embed') => ({
    target: { kind: 'neuron' as const, layer: 1, neuron },
    method,
    steps: 2,
    seqLen: 5,
    lambdas: [0, 1],
    candidates: 4,
    seed: 3,
  });

  it('dreams run together equal the same dreams alone, are deterministic, and leave no tensor behind', async () => {
    const ctx = { model: fixture().model, tokenizer: fixture().tokenizer };
    const reqs = [request(7, 'fluent'), request(30, 'fluent'), request(12, 'embed')];
    const alone: DreamResult[] = [];
    for (const r of reqs) alone.push(await dreamToEnd(runDream(ctx, r)));
    const before = tf.memory().numTensors;
    let evaluator: LockstepEvaluator | undefined;
    const records: number[] = [0, 0, 0];
    const together = await dreamTogether(ctx, reqs, { evaluator: (e) => (evaluator = e), onRecord: (i) => records[i]++ });
    expect(tf.memory().numTensors).toBe(before);
    // One batch per step of the three searches (embed never hands anything in).
    expect(evaluator!.stats.batches).toBe(2);
    expect(records.every((n) => n > 0)).toBe(true);
    together.forEach((res, i) => {
      expect(res.stopped).toBe('completed');
      const texts = (r: typeof res) => [r.best!.text, ...r.bestPerLabel.map((d) => d.text)];
      const values = (r: typeof res) => [r.best!.value, ...r.bestPerLabel.map((d) => d.value)];
      expect(texts(res)).toEqual(texts(alone[i]));
      close(values(res), values(alone[i]), 1e-5);
    });
    const again = await dreamTogether(ctx, reqs.slice(0, 2));
    again.forEach((res, i) => expect(res.bestPerLabel.map((d) => [d.text, d.value])).toEqual(together[i].bestPerLabel.map((d) => [d.text, d.value])));
  });

  it('stops every dream on the signal, and one failure stops the group with its error', async () => {
    const ctx = { model: fixture().model, tokenizer: fixture().tokenizer };
    const stop = new AbortController();
    const res = await dreamTogether(ctx, [{ ...request(7, 'fluent'), steps: 50, every: 1 }, { ...request(8, 'fluent'), steps: 50, every: 1 }], {
      signal: stop.signal,
      onRecord: (_i, r) => r.step >= 1 && stop.abort(),
    });
    expect(res.map((r) => r.stopped)).toEqual(['aborted', 'aborted']);
    expect(Math.max(...res.map((r) => r.steps))).toBeLessThan(50);
    await expect(dreamTogether(ctx, [request(7, 'fluent'), { ...request(7, 'fluent'), target: { kind: 'neuron', layer: 1, neuron: 100000 } }])).rejects.toThrow(/out of range/);
  });

  it('the seed source measures a layer once for all its neurons, with the values each window has on its own', async () => {
    const tok = fixture().tokenizer;
    const pool = (await seedPoolDocuments('brown', tok)).slice(0, 4);
    const source = seedSourceFrom(fixture().model, tok, pool, 60);
    const runs = { n: 0 };
    const run = fixture().model.run.bind(fixture().model);
    fixture().model.run = ((...args: Parameters<typeof run>) => (runs.n++, run(...args))) as typeof run;
    try {
      const a = await source(neuronTarget(1, 7), 'max', 8, 5);
      const afterFirst = runs.n;
      expect(afterFirst).toBeGreaterThan(0);
      const b = await source(neuronTarget(1, 30), 'max', 8, 5);
      expect(runs.n).toBe(afterFirst); // the second neuron of the layer: no forward run
      await source(neuronTarget(0, 30), 'max', 8, 5);
      expect(runs.n).toBeGreaterThan(afterFirst); // another layer: its own
      // Reference: every window measured by the hard evaluation (with its losses, every block run), best first.
      const windows = seedWindows(pool, tok, 8, 60);
      for (const [got, neuron] of [[a, 7], [b, 30]] as const) {
        const ref = (await measureIds(fixture().model, tok, neuronTarget(1, neuron), windows.map((w) => w.ids), 'max')).map((e) => ({ text: e.text, value: e.value }));
        ref.sort((x, y) => y.value - x.value);
        expect(got.cost).toBe(windows.length);
        close(got.seeds.map((x) => x.value), ref.slice(0, 5).map((x) => x.value), 1e-5);
        expect(got.seeds.map((x) => x.text)).toEqual(ref.slice(0, 5).map((x) => x.text));
      }
      expect(a.seeds.map((x) => x.text)).not.toEqual(b.seeds.map((x) => x.text));
    } finally {
      fixture().model.run = run;
    }
  });
});
