// bench/edit-kinds: how readers rated seeded dreams by the kind of their edits. Every seeded dream rated blind in
// bench/results/readability-blind-read*.json (its ratings averaged over reads and readers) is lined up with its
// seed (readability/insertions.ts) and each edit named by what it did: an inserted plain word (an adverb, or a
// word that stands before a noun), a deleted word, or a swapped word by the seed word's most frequent Brown tag
// (name, common noun, adverb, adjective, verb, other); and whether a word it brought in is one its seed's document
// (of the seed pool) uses (readability/documentVocabulary.ts). Prints JSON: per combination of kinds, per kind
// anywhere in a dream, and by document vocabulary, the count, the share rated ≥ 4, the share ≤ 2.5 and the mean rating.
//   npx tsx bench/edit-kinds.ts
import { readdirSync, readFileSync } from 'node:fs';
import { loadCorpus } from '../src-main/corpus/documents.js';
import { documentWords, wordsFromOutside } from '../src-main/readability/documentVocabulary.js';
import { alignWithDeletion, alignWithInsertion, PRENOMINAL_INSERTABLE } from '../src-main/readability/insertions.js';
import { brownTagLexicon, isAdjectiveTag, isVerbTag } from '../src-main/readability/partOfSpeech.js';
import { readabilitySplits } from '../src-main/readability/splits.js';
import { textPieces } from '../src-main/readability/wordClasses.js';

const tags = await brownTagLexicon();
const rated = new Map<string, { ratings: number[]; seed: string; next?: string }>();
const files = readdirSync('bench/results').filter((f) => f.startsWith('readability-blind-read'));
for (const f of files) {
  for (const t of JSON.parse(readFileSync(`bench/results/${f}`, 'utf8')).texts ?? []) {
    if (!t.seedText || t.text === t.seedText) continue;
    const ratings: number[] = [t.rating, t.rating2].filter((x) => typeof x === 'number');
    if (!ratings.length) continue;
    const e = rated.get(t.text) ?? { ratings: [] as number[], seed: t.seedText as string, next: t.seedNext as string | undefined };
    e.ratings.push(...ratings);
    rated.set(t.text, e);
  }
}

/** What a swapped seed word was, by its most frequent tag (a capitalised word Brown does not know lower-cased is a name). */
function swapKind(word: string): string {
  const tag = tags.tagOf(word) ?? tags.tagOf(word.toLowerCase());
  if (/^np/.test(tag ?? '') || (/^\p{Lu}/u.test(word) && tags.tagOf(word.toLowerCase()) === undefined)) return 'swap name';
  if (/^nn/.test(tag ?? '')) return 'swap noun';
  if (/^(rb|ql)/.test(tag ?? '')) return 'swap adverb';
  if (isAdjectiveTag(tag ?? '')) return 'swap adjective';
  if (isVerbTag(tag ?? '')) return 'swap verb';
  return 'swap other';
}

/** The kinds of a dream's edits, by the alignment with its seed that takes the fewest edits. */
function editKinds(seed: string, text: string, next?: string): string[] {
  const a = textPieces(seed);
  const b = textPieces(text);
  const runOn = next ? textPieces(seed + next) : [];
  const ins = alignWithInsertion(a, b, 2);
  const del = next ? alignWithDeletion(a, runOn, b, 2) : null;
  const swaps = a.length === b.length ? a.flatMap((w, i) => (w === b[i] ? [] : [w])) : null;
  const cost = [swaps ? swaps.length : Infinity, ins ? 1 + ins.swaps.length : Infinity, del ? 1 + del.swaps.length : Infinity];
  const best = Math.min(...cost);
  if (best === Infinity) return ['unaligned'];
  if (cost[0] === best) return swaps!.map(swapKind);
  if (cost[1] === best) return [PRENOMINAL_INSERTABLE.has(b[ins!.inserted]) ? 'insert before a noun' : 'insert adverb', ...ins!.swaps.map(([i]) => swapKind(a[i]))];
  return ['delete', ...del!.swaps.map(([i]) => swapKind(runOn[i]))];
}

// Each seed's document: the seed-pool document whose text holds the seed.
const pool = readabilitySplits(await loadCorpus('brown+sotu')).seedPool.map((d) => ({ text: d.text, words: documentWords(d.text) }));
const docOf = (seed: string) => pool.find((d) => d.text.includes(seed.trimStart()));

const groups = new Map<string, number[]>();
const add = (key: string, m: number) => groups.set(key, [...(groups.get(key) ?? []), m]);
for (const [text, e] of rated) {
  const mean = e.ratings.reduce((x, y) => x + y, 0) / e.ratings.length;
  const kinds = editKinds(e.seed, text, e.next).sort();
  add(kinds.join(' + '), mean);
  for (const k of new Set(kinds)) add(`any ${k}`, mean);
  const doc = docOf(e.seed);
  if (doc) add(wordsFromOutside(doc.words, e.seed, text, e.next).length ? 'a word from outside its document' : 'every word from its seed or its document', mean);
}
const round = (x: number) => Math.round(x * 100) / 100;
const rows = [...groups]
  .map(([kinds, ms]) => ({ kinds, count: ms.length, ratedAtLeast4: round(ms.filter((m) => m >= 4).length / ms.length), ratedAtMost2_5: round(ms.filter((m) => m <= 2.5).length / ms.length), meanRating: round(ms.reduce((x, y) => x + y, 0) / ms.length) }))
  .sort((x, y) => y.count - x.count);
console.log(JSON.stringify({ bench: 'edit-kinds', reads: files.length, dreams: rated.size, rows }, null, 1));
