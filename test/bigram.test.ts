import { describe, expect, it } from 'vitest';
import { rng } from '../src-main/corpus/rng.js';
import { BigramModel, DEFAULT_K_CANDIDATES, tuneK } from '../src-main/lm/bigram.js';

describe('BigramModel', () => {
  const V = 7;
  const train = [
    [0, 1, 2, 1, 2, 3],
    [1, 2, 2],
    [4], // a one-token sequence contributes no bigram
    new Uint16Array([5, 0, 1]),
  ];

  for (const k of [1, 0.1, 0.001]) {
    it(`P(· | a) sums to 1 for seen and unseen a (k=${k})`, () => {
      const model = BigramModel.fit(train, V, k);
      for (let a = 0; a < V; a++) {
        let sum = 0;
        for (let b = 0; b < V; b++) sum += Math.exp(model.logProb(a, b));
        expect(sum).toBeCloseTo(1, 12);
      }
      // 6 never appears as a context: uniform.
      expect(model.logProb(6, 3)).toBeCloseTo(-Math.log(V), 12);
    });
  }

  it('uses the exact add-k formula', () => {
    const model = BigramModel.fit(train, V, 0.5);
    // c(1,2) = 3 (two in seq 0, one in seq 1); c(1) = 3.
    expect(model.count(1, 2)).toBe(3);
    expect(model.contextCounts[1]).toBe(3);
    expect(model.logProb(1, 2)).toBeCloseTo(Math.log((3 + 0.5) / (3 + 0.5 * V)), 12);
    // c(2) = 3: 2→1, 2→3, 2→2 (the final 2s of sequences are not contexts).
    expect(model.logProb(2, 0)).toBeCloseTo(Math.log(0.5 / (3 + 0.5 * V)), 12);
    // No bigram spans two sequences: 3 (end of seq 0) → 1 (start of seq 1) is unseen.
    expect(model.count(3, 1)).toBe(0);
    expect(model.trainTokens).toBe(5 + 2 + 0 + 2);
  });

  it('perplexity matches a hand-computed closed form', () => {
    const model = BigramModel.fit([[0, 1, 0, 1]], 3, 1);
    // c(0,1)=2, c(1,0)=1, c(0)=2, c(1)=1. P(1|0) = 3/5, P(2|1) = 1/4; first token skipped.
    const ce = model.crossEntropy([[0, 1, 2]]);
    expect(ce.tokens).toBe(2);
    expect(ce.firstToken).toBe('skipped');
    expect(ce.nats).toBeCloseTo(-Math.log(3 / 5) - Math.log(1 / 4), 12);
    expect(ce.natsPerToken).toBeCloseTo(ce.nats / 2, 12);
    expect(ce.perplexity).toBeCloseTo(Math.sqrt(20 / 3), 12);
    // Sequences are scored independently and one-token sequences add nothing.
    const two = model.crossEntropy([[0, 1], [1, 2], [2]]);
    expect(two.tokens).toBe(2);
    expect(two.nats).toBeCloseTo(ce.nats, 12);
  });

  it('rejects bad ids, vocab sizes and k', () => {
    expect(() => BigramModel.fit([[0, 7]], 7, 1)).toThrow(/token id 7 at sequence 0, position 1/);
    expect(() => BigramModel.fit([[0, 1.5]], 7, 1)).toThrow(RangeError);
    expect(() => BigramModel.fit([[0]], 0, 1)).toThrow(/vocabSize/);
    expect(() => BigramModel.fit([[0]], 7, 0)).toThrow(/k must be/);
    const model = BigramModel.fit([[0, 1]], 7, 1);
    expect(() => model.logProb(-1, 0)).toThrow(RangeError);
    expect(Number.isNaN(model.crossEntropy([]).perplexity)).toBe(true);
  });
});

describe('tuneK', () => {
  /** A sparse Markov chain: each token has 3 likely successors out of V. */
  function sample(V: number, sequences: number, length: number, seed: number): number[][] {
    const succ = Array.from({ length: V }, (_, a) => [(a * 7 + 1) % V, (a * 13 + 5) % V, (a * 31 + 2) % V]);
    const rand = rng(seed);
    return Array.from({ length: sequences }, () => {
      const seq = [Math.floor(rand() * V)];
      while (seq.length < length) {
        const prev = seq[seq.length - 1];
        // 95% one of the successors, 5% any token, so unseen bigrams do occur.
        seq.push(rand() < 0.95 ? succ[prev][Math.floor(rand() * 3)] : Math.floor(rand() * V));
      }
      return seq;
    });
  }

  it('picks k from the candidates and the tuned model beats k = 1 on held-out data', () => {
    const V = 300;
    const train = sample(V, 100, 100, 1);
    const dev = sample(V, 20, 100, 2);
    const test = sample(V, 20, 100, 3);
    const tuned = tuneK(train, dev, V);
    expect(DEFAULT_K_CANDIDATES).toContain(tuned.k);
    expect(tuned.k).toBeLessThan(1);
    expect(tuned.dev.map((r) => r.k)).toEqual(DEFAULT_K_CANDIDATES);
    const best = Math.min(...tuned.dev.map((r) => r.perplexity));
    expect(tuned.dev.find((r) => r.k === tuned.k)?.perplexity).toBe(best);
    expect(tuned.model.k).toBe(tuned.k);
    expect(tuned.atBoundary).toBe(tuned.k === 0.001);

    const heldOutTuned = tuned.model.crossEntropy(test).perplexity;
    const heldOutK1 = BigramModel.fit(train, V, 1).crossEntropy(test).perplexity;
    expect(heldOutTuned).toBeLessThan(heldOutK1);
    // Sanity: far better than uniform guessing, far worse than a perfect model.
    expect(heldOutTuned).toBeLessThan(V / 10);
    expect(heldOutTuned).toBeGreaterThan(3);
  });

  it('accepts one-shot iterables and custom candidates', () => {
    function* gen(): Generator<number[]> {
      yield [0, 1, 0, 1, 0];
    }
    const r = tuneK(gen(), gen(), 4, [2, 0.5]);
    expect(r.dev).toHaveLength(2);
    expect([2, 0.5]).toContain(r.k);
    expect(() => tuneK([], [], 4, [])).toThrow(/candidates/);
  });
});
