// The readability measure against people: test/fixtures/readability/rated.tsv holds 174 short texts (real windows
// and dreams) that readers rated 1-5 without knowing which was which. The measure, with the shipped judge, must call
// readable nearly every text people rate ≥ 4 and almost none they rate ≤ 2.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assessReadability, doubledWord, maskAddresses, READABLE_RULE, runOnSentence, startsAsSentence, strayCapital, swappedWords, unbalancedParentheses } from '../src-main/readability/assess.js';
import type { ReadabilityJudge } from '../src-main/readability/judge.js';
import { loadShippedJudge } from '../src-main/readability/shipped.js';
import { gpt2Tokenizer } from '../src-main/train/lmCorpus.js';
import { FIXTURES } from './helpers/shared.js';

interface Rated {
  text: string;
  kind: string;
  rating: number;
}

const rated: Rated[] = readFileSync(join(FIXTURES, 'readability', 'rated.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [json, kind, rating] = line.split('\t');
    return { text: JSON.parse(json) as string, kind, rating: Number(rating) };
  });

let judge: ReadabilityJudge;
beforeAll(async () => {
  judge = (await loadShippedJudge(gpt2Tokenizer())).judge;
}, 120_000);

describe('readable, as people rate it', () => {
  it('reads the whole rated file', () => {
    expect(rated).toHaveLength(174);
    expect(rated.filter((r) => r.rating >= 4).length).toBe(36);
  });

  it('calls readable most texts people rate ≥ 4 and almost none they rate ≤ 2', () => {
    const good = rated.filter((r) => r.rating >= 4);
    const bad = rated.filter((r) => r.rating <= 2);
    // The rated texts are windows cut from running text (the dreams among them too, for all the reader knew).
    const readable = (r: Rated) => assessReadability(judge, r.text, { window: true }).readable;
    const recall = good.filter(readable).length / good.length;
    const falseReadable = bad.filter(readable).length / bad.length;
    // The targets: ≥ 90 % and ≤ 2 %. Measured with the shipped judge (syntax percentile ≥ 5, the word list in
    // the lexicon, an address one word): recall 33/36 = 91.7 %, false readable 1/135 = 0.7 %. The three real texts it
    // misses: "Kubla" (a name no list holds), "to" three times in twelve words, and one at the 4.8th syntax
    // percentile (README, "Readability").
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(falseReadable).toBeLessThanOrEqual(0.02);
  });

  it('is not fooled by repetition, punctuation-and-newline salad or word fragments', () => {
    const verdict = (t: string) => assessReadability(judge, t);
    expect(verdict(' you you you know whom\n"There"?\n').readable).toBe(false);
    expect(verdict(' wuie.\n\n" him"?\n').reason).toMatch(/line break/);
    expect(verdict(' Americans Americans Nation budget Nation Nation Americans working.6').reason).toMatch(/occurs 3 times|twice in a row/);
    expect(verdict('He got the American on the American American young young').readable).toBe(false);
    expect(verdict(' strokes prescription Anglo Pop jurisd Mao ankles commercialsande pictured').readable).toBe(false);
    // Fragments whose trigrams fit: a dream must start as a sentence, and not run one sentence into the next.
    expect(verdict(' benches to invite the courage of the people."').reason).toMatch(/start as a sentence/);
    expect(verdict(' Af to invite the group of the people.4').reason).toMatch(/run into the next/);
    expect(verdict('Trigger\uFFFD\uFFFD CAR ERA\uFFFD vows Pull Eva tuber').reason).toMatch(/broken character/);
    // Fragments stitched at a capital where no sentence starts, or at a lone letter: `fluent`'s dreams on the second
    // default model, which passed every other part of the rule (syntax percentile 16 and 6).
    expect(verdict('(He fairly) A document for simple electronic mail').reason).toMatch(/"A" reads as a seam/);
    expect(verdict(' It T did whosoever hast entered into dead').reason).toMatch(/"T" reads as a seam/);
    const sentence = verdict(' He said that the money would be spent on the new roads next year.');
    expect(sentence.readable).toBe(true);
    expect(sentence.percentile).toBeGreaterThan(READABLE_RULE.minPercentile);
  });
});

describe('an edited sentence against its seed', () => {
  it('is readable only if the judge finds it at least as likely per token as the sentence it was edited from', () => {
    const seed = ' The Army during the past year has been actively engaged';
    const same = assessReadability(judge, seed, { seedText: seed });
    expect(same.readable).toBe(true);
    expect(same.seedLogProb).toBe(same.logProb);
    const worse = assessReadability(judge, ' The Army during the past year got heard actively engaged', { seedText: seed });
    expect(worse.reason).toMatch(/less likely than its seed/);
    expect(worse.seedLogProb! - worse.logProb).toBeGreaterThan(1);
    // Without its seed the same text is judged on the other rules alone (and passes them: the seed rule is what sees it).
    expect(assessReadability(judge, ' The Army during the past year got heard actively engaged').readable).toBe(true);
  });

  it('swaps at most two of its seed\'s words, word for word', () => {
    const seed = ' The Army during the past year has been actively engaged';
    expect(swappedWords(seed, seed)).toBe(0);
    expect(swappedWords(seed, ' The Navy during the past year has been actively engaged')).toBe(1);
    expect(swappedWords(seed, 'And Army during the past year got heard actively engaged')).toBe(3);
    // A word broken in two, or two merged: the words no longer line up.
    expect(swappedWords(seed, ' The Ar my during the past year has been actively engaged')).toBeNull();
    expect(assessReadability(judge, 'And Army during the past year got heard actively engaged', { seedText: seed }).reason).toBe("3 of its seed's words swapped (at most 2)");
    expect(assessReadability(judge, ' The Ar my during the past year has been actively engaged', { seedText: seed }).reason).toMatch(/do not line up with its seed/);
    const one = assessReadability(judge, ' The Navy during the past year has been actively engaged', { seedText: seed });
    expect(one.reason === null || /less likely/.test(one.reason)).toBe(true);
  });
});

describe('readability rule parts', () => {
  it('finds unbalanced parentheses and doubled words', () => {
    expect(unbalancedParentheses('a (b) c')).toBe(false);
    expect(unbalancedParentheses('S\') Supreme')).toBe(true);
    expect(unbalancedParentheses('for now - (" OF')).toBe(true);
    expect(doubledWord('many such such many')).toBe('such');
    expect(doubledWord('that is that')).toBeNull();
    for (const t of [' The cat', 'The cat', ' "Yes', '("It', ' 1990 was', ' I am']) expect(startsAsSentence(t), t).toBe(true);
    for (const t of [' the cat', ', and', ' "yes', ' -- It', '']) expect(startsAsSentence(t), t).toBe(false);
    for (const t of [' the people.5', ' it.The end', ' here!Now']) expect(runOnSentence(t), t).toBe(true);
    for (const t of [' the U.S. Army', ' e.g. this', ' 3.5 per cent', ' the end. Then', ' Mr.S. Smith']) expect(runOnSentence(t), t).toBe(false);
  });

  it('reads an e-mail or web address as one word, not as sentences run together', () => {
    expect(maskAddresses('odlar <raffi@linwin.com>')).toBe('odlar <address>');
    expect(maskAddresses(' see www.example.org/faq or mail j.doe+x@mail.example.co.uk now')).toBe(' see address or mail address now');
    expect(maskAddresses(' the people.5 at 3.5 per cent')).toBe(' the people.5 at 3.5 per cent');
    expect(runOnSentence('odlar <raffi@linwin.com>')).toBe(true);
    expect(runOnSentence(maskAddresses('odlar <raffi@linwin.com>'))).toBe(false);
  });

  it('finds the seam of stitched fragments: a capitalised function word where no sentence starts, or a lone letter', () => {
    const seams: [string, string][] = [
      ['(He fairly) A document for simple electronic mail', 'A'],
      [' 1960 ( con) A machine for', 'A'],
      [' It T did whosoever', 'T'],
      ['(N freedom) social document where u fl mail', '(N'],
      [' The plan, And the rest', 'And'],
    ];
    for (const [t, seam] of seams) expect(strayCapital(t), t).toBe(seam);
    const prose = [
      ' He said, "The end is near." The rest',
      ' Mr. J. F. Kennedy and I went to see O Lord',
      ' The man -- The',
      ' It rained; The end',
      ' These powers are the driving force of human progress.',
      ' In 1960 the U.S. Army sent a team to Paris',
      ' A man and a woman',
    ];
    for (const t of prose) expect(strayCapital(t), t).toBeNull();
  });
});
