// A seeded dream's swapped-in words must come from its seed's document (readability/documentVocabulary.ts).
import { expect, it } from 'vitest';
import { documentWords, wordsFromOutside } from '../src-main/readability/documentVocabulary.js';

const doc = documentWords('The Doctrine of the people, and the policy of the Government, as to the invasion.');

it('documentWords holds each word of a text once, lower-cased', () => {
  expect([...doc].sort()).toEqual(['and', 'as', 'doctrine', 'government', 'invasion', 'of', 'people', 'policy', 'the', 'to']);
});

it('wordsFromOutside names the words a swap brought from outside the seed and its document, and only those', () => {
  const seed = ' The sympathy of the American people has justly been';
  // A word of the document (in another case) and an unchanged seed are both fine.
  expect(wordsFromOutside(doc, seed, ' The doctrine of the American people has justly been')).toEqual([]);
  expect(wordsFromOutside(doc, seed, seed)).toEqual([]);
  // "herb" is in neither; two outside words are both named, in order.
  expect(wordsFromOutside(doc, seed, ' The herb of the American people has justly been')).toEqual(['herb']);
  expect(wordsFromOutside(doc, seed, ' The herb of the American nation has justly been')).toEqual(['herb', 'nation']);
  // A plain inserted word fits any topic; a word of what follows the seed (pulled in by a deletion) is its own.
  expect(wordsFromOutside(doc, seed, ' The sympathy of the American people also has justly')).toEqual([]);
  expect(wordsFromOutside(doc, seed, ' The sympathy of the people has justly been recognised', ' recognised by')).toEqual([]);
  // The last word may be a seed word cut short where the tokens end; the same piece elsewhere is not.
  expect(wordsFromOutside(doc, ' Three seagoing sheathed and coppered', ' Three seagoing sheathed and copp')).toEqual([]);
  expect(wordsFromOutside(doc, ' Three seagoing sheathed and coppered', ' Three copp sheathed and coppered')).toEqual(['copp']);
});
