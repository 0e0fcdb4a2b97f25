// The word statistics eval-lm reports for samples are the readability judge's (readability/repetition.ts): checked on
// closed forms.
import { describe, expect, it } from 'vitest';
import { repetition, textWords } from '../src-main/readability/repetition.js';

describe('sample diversity', () => {
  it('splits words without punctuation, keeping apostrophes inside words', () => {
    expect(textWords("The nation's  wealth, the NATION; 1,200 men.")).toEqual(['the', "nation's", 'wealth', 'the', 'nation', '1', '200', 'men']);
  });

  it('distinct-2 counts repeated bigrams once', () => {
    // "of the state of the state": bigrams of-the, the-state, state-of, of-the, the-state → 3 distinct of 5.
    expect(repetition('of the state of the state').distinct2).toBeCloseTo(3 / 5, 12);
    expect(repetition('a b c d').distinct2).toBe(1);
    expect(repetition('the the the the').distinct2).toBeCloseTo(1 / 3, 12);
    expect(repetition('a b a b').distinct1).toBe(0.5);
  });

  it('the largest repeat count names its word', () => {
    const r = repetition('The cat saw the dog and THE bird');
    expect([r.maxWordCount, r.mostRepeated]).toEqual([3, 'the']);
    expect([repetition('').maxWordCount, repetition('').mostRepeated]).toEqual([0, null]);
  });
});
