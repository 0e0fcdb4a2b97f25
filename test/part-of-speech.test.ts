// Parts of speech for seeded edits (readability/partOfSpeech.ts): the tag lexicon on hand-made tagged text, the edit
// rule on fixed sentences, and the shipped lexicon read from the judge's Brown documents only.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusPackageDir, loadCorpus } from '../src-main/corpus/documents.js';
import { brownTagLexicon, isAdjectiveTag, isCommonNounTag, isVerbTag, keepsPartsOfSpeech, MIN_TAG_SHARE, normaliseTag, TagLexicon } from '../src-main/readability/partOfSpeech.js';
import { readabilitySplits } from '../src-main/readability/splits.js';

describe('tag lexicon', () => {
  it('normalises title, headline and citation marks and the foreign-word prefix, and keeps the rest', () => {
    expect(normaliseTag('NN-TL')).toBe('nn');
    expect(normaliseTag('nn-tl-hl')).toBe('nn');
    expect(normaliseTag('fw-in')).toBe('in');
    expect(normaliseTag('np$')).toBe('np$');
    expect(normaliseTag('pps+bez')).toBe('pps+bez');
  });

  it("keeps each word's tags of at least MIN_TAG_SHARE, most frequent first, ties alphabetically", () => {
    expect(MIN_TAG_SHARE).toBe(0.2);
    // fall: nn ×3, vb ×1 (1/4 ≥ 0.2); run: vb ×9, nn ×1 (1/10 < 0.2); cut: vbd ×1, vb ×1 (a tie); 1/2 and "." are no words.
    const tokens = ['fall/nn', 'Fall/nn-tl', 'fall/nn', 'fall/vb', ...Array(9).fill('run/vb'), 'run/nn', 'cut/vbd', 'cut/vb', '1/2/cd', './.'];
    const lex = TagLexicon.fromTagged(tokens);
    expect(lex.tagsOf('fall')).toEqual(['nn', 'vb']);
    expect(lex.tagsOf('FALL')).toEqual(['nn', 'vb']);
    expect(lex.tagOf('run')).toBe('vb');
    expect(lex.tagsOf('run')).toEqual(['vb']);
    expect(lex.tagsOf('cut')).toEqual(['vb', 'vbd']);
    expect(lex.tagsOf('1/2')).toEqual([]);
    expect(lex.tagOf('missing')).toBeUndefined();
    expect(lex.size).toBe(3);
  });
});

describe('seeded edits that keep parts of speech', () => {
  const lex = TagLexicon.fromTagged(['f/nn', 'l/nn', 'cycle/nn', 'I/ppss', 'they/ppss', 'fail/vb', 'fall/nn', 'fall/nn', 'fall/vb', 'fell/vbd', 'perish/vb', 'against/in', 'away/rb', 'people/nns', 'and/cc', 'so/rb', 'let/vb', 'if/cs', 'North/np', 'South/np', 'the/at', 'a/at']);
  const seed = ' If they fail, and so perish away, let';

  it('allows swapping a word for one that often takes its most frequent tag', () => {
    expect(keepsPartsOfSpeech(lex, seed, seed)).toBe(true);
    expect(keepsPartsOfSpeech(lex, seed, ' If they fall, and so perish away, let')).toBe(true); // vb is one of fall's tags
    expect(keepsPartsOfSpeech(lex, seed, ' If they fall, and so let away, let')).toBe(true); // perish → let: vb → vb
    expect(keepsPartsOfSpeech(lex, ' The North', ' A South')).toBe(true);
  });

  it('refuses a change of part of speech, of capital, of punctuation or spacing, and swaps of unknown words', () => {
    expect(keepsPartsOfSpeech(lex, seed, ' If they fell, and so perish away, let')).toBe(false); // vb → vbd
    expect(keepsPartsOfSpeech(lex, seed, ' If they fail, and so against people, let')).toBe(false); // vb → in, rb → nns
    expect(keepsPartsOfSpeech(lex, seed, ' if they fail, and so perish away, let')).toBe(false); // lost its capital
    expect(keepsPartsOfSpeech(lex, seed, ' If they fail; and so perish away, let')).toBe(false); // punctuation
    expect(keepsPartsOfSpeech(lex, seed, ' If they fail , and so perish away, let')).toBe(false); // spacing
    expect(keepsPartsOfSpeech(lex, seed, ' If they fail, and so perish away, letting')).toBe(false); // unknown new word
    expect(keepsPartsOfSpeech(lex, seed, ' If they fail, and so perish away')).toBe(false); // a word fewer
    // Single letters are nouns in Brown, but only "a" and "I" are swapped in.
    expect(keepsPartsOfSpeech(lex, ' The cycle', ' The f')).toBe(false);
    expect(keepsPartsOfSpeech(lex, ' They fail', ' I fail')).toBe(true);
    // An unknown word may stay as it is, but may not be swapped, nor swapped in.
    expect(keepsPartsOfSpeech(lex, ' They forebode', ' They forebode')).toBe(true);
    expect(keepsPartsOfSpeech(lex, ' They forebode', ' They fail')).toBe(false);
  });

  it('with verbs fixed (seeded\'s default), swaps the other words and leaves every lexical verb as it is', () => {
    expect(keepsPartsOfSpeech(lex, seed, ' If they fail, and so perish away, let', isVerbTag)).toBe(true);
    expect(keepsPartsOfSpeech(lex, ' The North', ' A South', isVerbTag)).toBe(true); // at → at, np → np
    expect(keepsPartsOfSpeech(lex, seed, ' If they fall, and so perish away, let', isVerbTag)).toBe(false); // fail: vb
    expect(keepsPartsOfSpeech(lex, seed, ' If they fail, and so let away, let', isVerbTag)).toBe(false); // perish: vb
    expect(keepsPartsOfSpeech(lex, ' They fail', ' I fail', isVerbTag)).toBe(true); // the pronoun may change
    for (const t of ['vb', 'vbd', 'vbg', 'vbn', 'vbz']) expect(isVerbTag(t), t).toBe(true);
    for (const t of ['be', 'hv', 'do', 'md', 'nn', 'jj']) expect(isVerbTag(t), t).toBe(false);
  });

  it('tells adjectives (left as they are by default) by their Brown tags', () => {
    for (const t of ['jj', 'jjr', 'jjs', 'jjt']) expect(isAdjectiveTag(t), t).toBe(true);
    for (const t of ['nn', 'rb', 'ql', 'ap', 'vb']) expect(isAdjectiveTag(t), t).toBe(false);
    const adj = TagLexicon.fromTagged(['a/at', 'young/jj', 'old/jj', 'man/nn', 'boy/nn', 'of/in', 'good/jj', 'human/jj', 'character/nn']);
    const fixed = (t: string) => isVerbTag(t) || isAdjectiveTag(t);
    expect(keepsPartsOfSpeech(adj, ' a young man of good character', ' a young man of human character', isVerbTag)).toBe(true);
    expect(keepsPartsOfSpeech(adj, ' a young man of good character', ' a young man of human character', fixed)).toBe(false);
    expect(keepsPartsOfSpeech(adj, ' a young man of good character', ' a young boy of good character', fixed)).toBe(true);
  });

  it('tells common nouns (left as they are with --seed-edits part-of-speech-keep-nouns) from names by their Brown tags', () => {
    for (const t of ['nn', 'nns', 'nn$', 'nns$']) expect(isCommonNounTag(t), t).toBe(true);
    for (const t of ['np', 'nps', 'np$', 'nr', 'jj', 'rb', 'vb']) expect(isCommonNounTag(t), t).toBe(false);
    const lex = TagLexicon.fromTagged(['the/at', 'sympathy/nn', 'herb/nn', 'of/in', 'Kate/np', 'Moses/np', 'and/cc', 'people/nns', 'has/hvz', 'justly/rb', 'duly/rb']);
    const keepNouns = (t: string) => isVerbTag(t) || isAdjectiveTag(t) || isCommonNounTag(t);
    expect(keepsPartsOfSpeech(lex, ' The sympathy of the people has justly', ' The herb of the people has justly', keepNouns)).toBe(false);
    expect(keepsPartsOfSpeech(lex, ' The sympathy of the people has justly', ' The sympathy of the people has duly', keepNouns)).toBe(true);
    expect(keepsPartsOfSpeech(lex, ' Kate and the people', ' Moses and the people', keepNouns)).toBe(true);
  });
});

describe("the shipped lexicon: the judge's Brown documents, tagged", () => {
  it('tags common words as Brown does, and knows no word found only outside the judge documents', async () => {
    const lex = await brownTagLexicon();
    expect(lex.tagOf('the')).toBe('at');
    expect(lex.tagOf('said')).toBe('vbd');
    expect(lex.tagsOf('people')).toContain('nns');
    // Words of the seed pool and held-out Brown files that no judge file has: the lexicon must not know them.
    const splits = readabilitySplits(await loadCorpus('brown'));
    const dir = corpusPackageDir('brown');
    const words = async (ids: string[]) => {
      const out = new Set<string>();
      for (const id of ids) for (const t of (await readFile(join(dir, id), 'utf8')).split(/\s+/)) if (t.includes('/')) out.add(t.slice(0, t.lastIndexOf('/')).toLowerCase());
      return out;
    };
    const judgeWords = await words(splits.judge.map((d) => d.id));
    const outside = [...(await words([...splits.seedPool, ...splits.heldOut].map((d) => d.id)))].filter((w) => /\p{L}/u.test(w) && !judgeWords.has(w));
    expect(outside.length).toBeGreaterThan(100);
    for (const w of outside) expect(lex.tagsOf(w), w).toEqual([]);
    expect(lex.size).toBe([...judgeWords].filter((w) => /\p{L}/u.test(w)).length);
  });
});
