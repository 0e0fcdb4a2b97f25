import { describe, expect, it } from 'vitest';
import { distinctN, maxWordRepeat, sampleWords } from '../src-main/train/sampleStats.js';

describe('sample diversity', () => {
  it('splits words without punctuation, keeping apostrophes inside words', () => {
    expect(sampleWords("The nation's  wealth, the NATION; 1,200 men.")).toEqual(['the', "nation's", 'wealth', 'the', 'nation', '1', '200', 'men']);
  });

  it('distinct-2 counts repeated bigrams once', () => {
    // "of the state of the state": bigrams of-the, the-state, state-of, of-the, the-state → 3 distinct of 5.
    expect(distinctN(sampleWords('of the state of the state'), 2)).toBeCloseTo(3 / 5, 12);
    expect(distinctN(['a', 'b', 'c', 'd'], 2)).toBe(1);
    expect(distinctN(['the', 'the', 'the', 'the'], 2)).toBeCloseTo(1 / 3, 12);
    expect(distinctN(['a', 'b', 'a', 'b'], 1)).toBe(0.5);
    expect(distinctN(['only'], 2)).toBeNaN();
    expect(() => distinctN(['a'], 0)).toThrow(/positive integer/);
  });

  it('the largest repeat count names its word', () => {
    expect(maxWordRepeat(sampleWords('The cat saw the dog and THE bird'))).toEqual({ count: 3, word: 'the' });
    expect(maxWordRepeat([])).toEqual({ count: 0, word: null });
  });
});
