// The blind reads' seeded dreams by how they were edited: for every rated seeded dream (each text once) with its
// seed (from the file, else from the dream-quality rows that hold it), the words swapped from the seed (position by
// position, as readability/assess.ts swappedWords counts them; "len" when the words no longer line up) and each
// swapped word's Brown tag, then the ratings per number of swaps and word classes (N noun, J adjective, V verb,
// R adverb, F other). The figures behind READABLE_RULE.maxSwappedWords (README, "readable").
//
//   npx tsx bench/blind-read-swaps.ts
import { readFileSync, readdirSync } from 'node:fs';
import { brownTagLexicon } from '../src-main/readability/partOfSpeech.js';
import { textPieces } from '../src-main/readability/wordClasses.js';
const seedOf = new Map<string, string>();
for (const f of readdirSync('bench/results').filter((f) => f.startsWith('dream-quality'))) {
  const d = JSON.parse(readFileSync('bench/results/' + f, 'utf8'));
  for (const r of d.rows ?? []) { const o = r.readableBest?.origin; if (o?.seedText) seedOf.set(r.readableBest.text, o.seedText); }
}
const tags = await brownTagLexicon();
const seen = new Set<string>(); const rows: any[] = [];
for (const f of readdirSync('bench/results').filter((f) => f.startsWith('readability-blind-read'))) {
  const d = JSON.parse(readFileSync('bench/results/' + f, 'utf8'));
  for (const t of d.texts ?? []) {
    if (t.rating === undefined) continue;
    const seed = t.seedText ?? seedOf.get(t.text);
    if (!seed || seen.has(t.text)) continue; seen.add(t.text);
    const a = textPieces(seed), b = textPieces(t.text);
    const swaps: string[] = [];
    if (a.length === b.length) a.forEach((w, i) => { if (w !== b[i]) swaps.push(`${tags.tagOf(w) ?? '?'}:${w}>${b[i]}`); });
    else swaps.push('len');
    rows.push({ r: t.rating, swaps });
  }
}
const cls = (s: string) => { const t = s.split(':')[0]; return /^nn|^np/.test(t) ? 'N' : /^jj/.test(t) ? 'J' : /^vb/.test(t) ? 'V' : /^rb/.test(t) ? 'R' : t === 'len' ? 'L' : 'F'; };
const by = new Map<string, number[]>();
for (const r of rows) { const k = r.swaps.length + ':' + r.swaps.map(cls).sort().join(''); by.set(k, [...(by.get(k) ?? []), r.r]); }
for (const [k, v] of [...by].sort()) console.log(k.padEnd(10), v.length, 'mean', (v.reduce((a, b) => a + b, 0) / v.length).toFixed(2), '>=4:', v.filter((x) => x >= 4).length, '<=2:', v.filter((x) => x <= 2).length);
for (const r of rows.filter((r) => r.swaps.length === 1)) console.log(r.r, r.swaps.join(' '));
