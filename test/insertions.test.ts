// One plain word inserted into a seed (seeded --insert-words plain): its token edit count, its word alignment with
// the seed, what the readability rule and the part-of-speech check make of it, all against hand-worked cases.
import { describe, expect, it } from 'vitest';
import { hamming } from '../src-main/dream/fluent.js';
import { swappedWords } from '../src-main/readability/assess.js';
import { alignWithDeletion, alignWithInsertion, INSERTABLE_WORDS, isInsertable, tokenEdits } from '../src-main/readability/insertions.js';
import { isDeletableTag, keepsPartsOfSpeech, TagLexicon } from '../src-main/readability/partOfSpeech.js';
import { textPieces } from '../src-main/readability/wordClasses.js';

describe('tokenEdits', () => {
  const o = [10, 11, 12, 13, 14, 15];
  it('counts swaps as hamming does', () => {
    expect(tokenEdits(o, o)).toBe(0);
    expect(tokenEdits(o, [10, 99, 12, 13, 14, 15])).toBe(1);
    expect(tokenEdits(o, [10, 99, 12, 98, 14, 15])).toBe(2);
    for (const ids of [[10, 99, 12, 13, 14, 97], [96, 11, 12, 13, 14, 15]]) expect(tokenEdits(o, ids)).toBe(hamming(o, ids));
  });
  it('counts an insertion that pushed the last token out as one edit, where hamming counts every shifted token', () => {
    const inserted = [10, 11, 99, 12, 13, 14];
    expect(hamming(o, inserted)).toBe(4);
    expect(tokenEdits(o, inserted)).toBe(1);
    expect(tokenEdits(o, [10, 98, 11, 99, 12, 13])).toBe(2); // two insertions, two tokens pushed out
    expect(tokenEdits(o, [10, 11, 99, 12, 98, 14])).toBe(2); // an insertion and a swap after it
  });
  it('lets at most maxDropped tokens of the tail go free', () => {
    const twoIn = [10, 98, 11, 99, 12, 13];
    expect(tokenEdits(o, twoIn, 2)).toBe(2);
    // With one token of the tail free, the second pushed-out token is a deletion: 3 edits.
    expect(tokenEdits(o, twoIn, 1)).toBe(3);
  });
});

describe('alignWithInsertion', () => {
  const al = (seed: string, text: string, maxSwaps?: number) => alignWithInsertion(textPieces(seed), textPieces(text), maxSwaps);
  it('finds the inserted plain word, with the seed\'s last word pushed out or cut short', () => {
    expect(al(' It may be assumed that differences in', ' It may not be assumed that differences')).toEqual({ inserted: 2, swaps: [] });
    // The seed's last word lost a token: the text's last piece is the seed's cut short.
    expect(al(' The principles which I have heretofore', ' The principles which I have already hereto')).toEqual({ inserted: 5, swaps: [] });
    // With a swap beside the insertion.
    expect(al(' I opened the door, and Wally stumbled in', ' I just opened a door, and Wally stumbled')).toEqual({ inserted: 1, swaps: [[2, 3]] });
  });
  it('refuses a word that is not insertable, an insertion before the first word, and a text that drops more than the last word', () => {
    expect(al(' It may be assumed that differences in', ' It may herb be assumed that differences')).toBeNull();
    expect(al(' It may be assumed that differences in', ' Not it may be assumed that differences')).toBeNull();
    expect(al(' It may be assumed that differences in', ' It may not be assumed that')).toBeNull();
    // More than one swap beside the insertion is not an insertion (a word broken in two lines up that way).
    expect(al(' The Army during the past year has been', ' The Ar my during the past year has')).toBeNull();
    expect(al(' I opened the door, and Wally stumbled in', ' I just opened a gate, and Wally stumbled')).toBeNull();
    expect(al(' I opened the door, and Wally stumbled in', ' I just opened a gate, and Wally stumbled', 2)).toEqual({ inserted: 1, swaps: [[2, 3], [3, 4]] });
  });
  it('keeps a closed list of plain lower-case words', () => {
    expect(INSERTABLE_WORDS.length).toBeGreaterThan(20);
    for (const w of INSERTABLE_WORDS) expect(w).toBe(w.toLowerCase());
    expect(isInsertable('not')).toBe(true);
    expect(isInsertable('American')).toBe(false);
  });
});

describe('the rule and the part-of-speech check with an insertion', () => {
  it('swappedWords counts the inserted word as one edit, and still refuses texts that do not line up', () => {
    expect(swappedWords(' It may be assumed that differences in', ' It may not be assumed that differences')).toBe(1);
    expect(swappedWords(' I opened the door, and Wally stumbled in', ' I just opened a door, and Wally stumbled')).toBe(2);
    // Swaps alone: as before.
    expect(swappedWords(' It may be assumed that', ' It can be assumed that')).toBe(1);
    expect(swappedWords(' It may be assumed that', ' It may herb be assumed that')).toBeNull();
  });
  const lex = TagLexicon.fromTagged(['I/ppss', 'they/ppss', 'opened/vbd', 'closed/vbd', 'the/at', 'a/at', 'door/nn', 'gate/nn', 'and/cc', 'just/rb', 'not/*']);
  it('takes an insertion only when asked to, with the other words swapped by part of speech and the punctuation kept', () => {
    const seed = ' I opened the door, and they opened';
    expect(keepsPartsOfSpeech(lex, seed, ' I just opened the door, and they')).toBe(false);
    expect(keepsPartsOfSpeech(lex, seed, ' I just opened the door, and they', undefined, true)).toBe(true);
    expect(keepsPartsOfSpeech(lex, seed, ' I just opened a door, and they', undefined, true)).toBe(true); // at → at
    expect(keepsPartsOfSpeech(lex, seed, ' I just opened the gate, and they', undefined, true)).toBe(true); // nn → nn
    expect(keepsPartsOfSpeech(lex, seed, ' I just opened a gate, and they', undefined, true)).toBe(false); // and a second swap
    expect(keepsPartsOfSpeech(lex, seed, ' I just opened the and, and they', undefined, true)).toBe(false); // nn → cc
    expect(keepsPartsOfSpeech(lex, seed, ' I just opened the door; and they', undefined, true)).toBe(false); // punctuation
    expect(keepsPartsOfSpeech(lex, seed, ' I just opened the door , and they', undefined, true)).toBe(false); // spacing
    expect(keepsPartsOfSpeech(lex, seed, ' I just opened the door, and', undefined, true)).toBe(false); // two words pushed out
    // Swaps alone still pass as before.
    expect(keepsPartsOfSpeech(lex, seed, ' I closed the door, and they opened', undefined, true)).toBe(true);
  });
});

describe('an inserted determiner, adjective or qualifier fits the word after it', () => {
  const lex = TagLexicon.fromTagged(['besides/in', 'its/pp$', 'historical/jj', 'significance/nn', 'I/ppss', 'got/vbd', 'her/ppo', 'into/in', 'bed/nn', 'and/cc', 'about/in', 'nine/cd', "o'clock/rb", 'it/pps', 'was/bedz', 'hard/jj', 'quickly/rb', 'done/vbn', 'Congress/np', 'old/jj', 'ask/vb', 'such/jj', 'such/jj', 'such/abl', 'consolidation/nn']);
  const ok = (seed: string, text: string) => keepsPartsOfSpeech(lex, seed, text, undefined, true);
  it('takes a determiner or adjective before a common noun or an adjective, and refuses it before a pronoun, a number or a name', () => {
    expect(ok(' I got her into bed, and', ' I got her into the bed,')).toBe(true);
    expect(ok(' Besides its historical significance', ' Besides its other historical')).toBe(true); // before an adjective
    expect(ok(' Besides its historical significance', ' Besides other its historical')).toBe(false); // before pp$
    expect(ok(" About nine o'clock", " About the nine o'")).toBe(false); // before a number
    expect(ok(' Besides Congress and', ' Besides all Congress')).toBe(false); // before a name
    expect(ok(' I got her into bed, and', ' I got her into a bed,')).toBe(true);
    expect(ok(' I got her into old bed, and', ' I got her into a old bed')).toBe(false); // a before a vowel
    // An adjective that is often a pre-qualifier too.
    expect(ok(' It was such consolidation and', ' It was the such consolidation')).toBe(false);
  });
  it('takes "very" only before an adjective or an adverb, and a plain adverb anywhere', () => {
    expect(ok(' It was hard and', ' It was very hard')).toBe(true);
    expect(ok(' It was done quickly and', ' It was done very quickly')).toBe(true);
    expect(ok(' It was done and', ' It was very done')).toBe(false);
    expect(ok(' It was done and', ' It was not done')).toBe(true);
    expect(ok(' It was done and', ' It was also done')).toBe(true);
    // At the text's end the next word is cut off: only an adverb.
    expect(ok(' It was done and', ' It was done the')).toBe(false);
  });
});

describe('an inserted word fits the word before it', () => {
  const lex = TagLexicon.fromTagged([
    ...['other/ap', 'pigments/nns', 'were/bed', 'mostly/rb', 'wooded/jj', 'stream/nn', 'valleys/nns', 'in/in', 'notwithstanding/in', 'the/at', 'existence/nn', 'of/in'],
    ...['moses/np', 'and/cc', 'mrs/np', 'tussle/np', 'waited/vbd', 'for/in', 'its/pp$', 'historical/jj', 'significance/nn', 'hence/rb', 'besides/rb', 'besides/rb', 'besides/in'],
    ...['need/nn', 'moment/nn', 'is/bez', 'such/jj', 'such/jj', 'such/abl', 'great/jj', 'confusion/nn', 'there/ex', 'was/bedz', 'that/cs'],
    ...['three/cd', 'seagoing/jj', 'sheathed/vbn', 'coppered/vbn', 'just/rb'],
  ]);
  const ok = (seed: string, text: string) => keepsPartsOfSpeech(lex, seed, text, undefined, true);
  it('refuses a determiner after another determiner, a possessive or an adjective, and takes "other", "most" and "own" where they go', () => {
    expect(ok(' Other pigments were mostly', ' Other more pigments were')).toBe(false);
    expect(ok(' Besides its historical significance', ' Besides its all historical')).toBe(false);
    expect(ok(' Besides its historical significance', ' Besides its other historical')).toBe(true);
    expect(ok(' Besides its historical significance', ' Besides its most historical')).toBe(true);
    expect(ok(' Besides its historical significance', ' Besides its own historical')).toBe(true);
    expect(ok(' Besides historical significance and', ' Besides own historical significance')).toBe(false);
    expect(ok(' Besides historical significance and', ' Besides all historical significance')).toBe(true);
    // "most" after an article makes a superlative: an adjective must follow.
    expect(ok(' The need of the moment is', ' The most need of the moment')).toBe(false);
    // "such" is mostly an adjective, but "such a" is English; "great a" is not.
    expect(ok(' There was such confusion that', ' There was such a confusion')).toBe(true);
    expect(ok(' There was great confusion that', ' There was great a confusion')).toBe(false);
  });
  it('refuses an adverb inside a noun phrase or a name, or after a preposition unless it is a focus adverb', () => {
    expect(ok(' Wooded stream valleys in', ' Wooded only stream valleys')).toBe(false);
    expect(ok(' Notwithstanding the existence of', ' Notwithstanding often the existence')).toBe(false);
    expect(ok(' Notwithstanding the existence of', ' Notwithstanding even the existence')).toBe(true);
    expect(ok(' Notwithstanding the existence of', ' Notwithstanding the often existence')).toBe(false);
    expect(ok(' Moses and Mrs. Tussle waited for', ' Moses and Mrs. often Tussle waited')).toBe(false);
    expect(ok(' Moses and Mrs. Tussle waited for', ' Moses and Mrs. Tussle often waited')).toBe(true);
    // Nor left hanging before a conjunction.
    expect(ok(' Three seagoing sheathed and coppered', ' Three seagoing sheathed just and')).toBe(false);
    expect(ok(' Three seagoing sheathed and coppered', ' Three seagoing just sheathed and')).toBe(true);
    // A word that is mostly an adverb but may be a preposition: not before the noun phrase it would govern.
    expect(ok(' Besides its historical significance', ' Besides also its historical')).toBe(false);
    expect(ok(' Hence its historical significance', ' Hence also its historical')).toBe(true);
  });
});

describe('one modifier deleted (seeded --delete-words modifiers)', () => {
  const seed = ' All lawful means at my command have been employed,';
  const next = ' and shall continue';
  const al = (text: string, maxSwaps?: number) => alignWithDeletion(textPieces(seed), textPieces(seed + next), textPieces(text), maxSwaps);
  it('lines the text up with its seed less one word, running on into the words after the seed', () => {
    expect(al(' All means at my command have been employed, and')).toEqual({ deleted: 1, swaps: [] });
    // The text's last piece may be the next word cut short.
    expect(al(' All means at my command have been employed, an')).toEqual({ deleted: 1, swaps: [] });
    // With a swap beside the deletion: its index is the run-on seed's.
    expect(al(' All means at your command have been employed, and')).toEqual({ deleted: 1, swaps: [[4, 3]] });
    expect(al(' All means at your order have been employed, and')).toBeNull();
    expect(al(' All means at your order have been employed, and', 2)).toEqual({ deleted: 1, swaps: [[4, 3], [5, 4]] });
  });
  it('deletes a word, never the first piece or a punctuation mark, and does not run past the words it was given', () => {
    expect(al(' lawful means at my command have been employed, and', 0)).toBeNull();
    expect(alignWithDeletion(textPieces(' Yes, it was so.'), textPieces(' Yes, it was so. He'), textPieces(' Yes it was so. He'), 0)).toBeNull();
    expect(alignWithDeletion(textPieces(' It was so'), textPieces(' It was so'), textPieces(' It so'))).toEqual({ deleted: 1, swaps: [] });
    expect(alignWithDeletion(textPieces(' It was so'), textPieces(' It was so'), textPieces(' It so he'))).toBeNull();
  });
  it('counts a deletion as one edit in tokens (the seed run on into its next tokens) and in words (given the next text)', () => {
    const o = [10, 11, 12, 13, 14, 15];
    const run = [...o, 16, 17];
    expect(hamming(o, [10, 12, 13, 14, 15, 16])).toBe(5);
    expect(tokenEdits(run, [10, 12, 13, 14, 15, 16], 2 + 2)).toBe(1);
    expect(tokenEdits(run, [10, 12, 13, 99, 15, 16], 2 + 2)).toBe(2);
    expect(tokenEdits(run, [10, 12, 13, 14, 15, 16, 17].slice(0, 6), 2 + 2)).toBe(1);
    expect(swappedWords(seed, ' All means at my command have been employed, and', next)).toBe(1);
    expect(swappedWords(seed, ' All means at your command have been employed, and', next)).toBe(2);
    // Without the next text the rule cannot see where the last word came from: word by word, every shifted word counts.
    expect(swappedWords(seed, ' All means at my command have been employed, and')).toBe(9);
  });
  const lex = TagLexicon.fromTagged(['all/abn', 'lawful/jj', 'means/nns', 'at/in', 'my/pp$', 'your/pp$', 'command/nn', 'order/nn', 'have/hv', 'been/ben', 'employed/vbn', 'and/cc', 'very/ql', 'fully/rb', 'Senate/np']);
  it('the part-of-speech check takes a deleted adjective, adverb or qualifier between two words, with the other words swapped by part of speech and the punctuation kept', () => {
    expect(isDeletableTag('jj') && isDeletableTag('rb') && isDeletableTag('ql') && isDeletableTag('jjr')).toBe(true);
    expect(isDeletableTag('nn') || isDeletableTag('vb') || isDeletableTag('at')).toBe(false);
    expect(keepsPartsOfSpeech(lex, seed, ' All means at my command have been employed, and')).toBe(false);
    expect(keepsPartsOfSpeech(lex, seed, ' All means at my command have been employed, and', undefined, false, next)).toBe(true);
    expect(keepsPartsOfSpeech(lex, seed, ' All means at your command have been employed, and', undefined, false, next)).toBe(true); // pp$ → pp$
    expect(keepsPartsOfSpeech(lex, seed, ' All means at my order have been employed, and', undefined, false, next)).toBe(true); // nn → nn
    expect(keepsPartsOfSpeech(lex, seed, ' All means at and command have been employed, and', undefined, false, next)).toBe(false); // pp$ → cc
    expect(keepsPartsOfSpeech(lex, seed, ' All means at my command have been employed; and', undefined, false, next)).toBe(false); // punctuation
    // A noun is not deleted, nor a word before punctuation.
    expect(keepsPartsOfSpeech(lex, seed, ' All lawful at my command have been employed, and', undefined, false, next)).toBe(false);
    const s2 = ' It was fully employed, and';
    expect(keepsPartsOfSpeech(lex, s2, ' It was employed, and the', undefined, false, ' the')).toBe(true);
    expect(keepsPartsOfSpeech(lex, ' It was employed fully, and', ' It was employed, and the', undefined, false, ' the')).toBe(false);
  });
  it('deletes an adjective only before its noun (attributive), never one that completes a verb (predicative)', () => {
    const adj = TagLexicon.fromTagged(['he/pps', 'was/bedz', 'mad/jj', 'at/in', 'a/at', 'world/nn', 'mad/jj', 'old/jj', 'man/nn', 'saw/vbd', 'very/ql', 'lawful/jj']);
    expect(keepsPartsOfSpeech(adj, ' He saw a mad world', ' He saw a world he', undefined, false, ' he')).toBe(true);
    expect(keepsPartsOfSpeech(adj, ' He saw a mad old man', ' He saw a old man he', undefined, false, ' he')).toBe(true); // before an adjective
    expect(keepsPartsOfSpeech(adj, ' He was mad at a world', ' He was at a world he', undefined, false, ' he')).toBe(false);
  });
});
