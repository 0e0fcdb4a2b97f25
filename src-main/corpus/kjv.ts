/**
 * The King James Bible (public domain), from Debian's `bible-kjv-text` package. Its data file is in the package's
 * own compressed format, which the `bible` program of Debian's `bible-kjv` package expands: `bible -f
 * Gen1:1-Rev22:21` prints one verse a line, `Ge1:1 In the beginning God created…`. One document per chapter
 * (1,189), so a held-out split keeps whole chapters out of training; verses of a chapter form one paragraph.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CorpusDocument } from './documents.js';
import { CorpusPackageMissingError } from './errors.js';

const VERSE = /^([1-3]?[A-Za-z]+)(\d+):(\d+)\s+(.*)$/;

/** `bible -f` output → one document per chapter, in book order; wrapped continuation lines are joined. */
export function kjvToDocuments(raw: string): CorpusDocument[] {
  const docs: CorpusDocument[] = [];
  let current: { id: string; book: string; chapter: number; verses: string[] } | undefined;
  const flush = () => {
    if (current && current.verses.length > 0) {
      docs.push({ id: current.id, source: 'kjv', genre: 'scripture', title: `${current.book} ${current.chapter}`, text: current.verses.join(' ') });
    }
  };
  for (const line of raw.split(/\r?\n/)) {
    const m = VERSE.exec(line.trim());
    if (!m) {
      const more = line.trim();
      if (more && current && current.verses.length > 0) current.verses[current.verses.length - 1] += ` ${more}`;
      continue;
    }
    const [, book, chapter, , text] = m;
    const id = `kjv-${book.toLowerCase()}-${chapter}`;
    if (current?.id !== id) {
      flush();
      current = { id, book, chapter: Number(chapter), verses: [] };
    }
    current.verses.push(cleanVerse(text));
  }
  flush();
  return docs;
}

/** Tidy one verse: collapse whitespace; the text has no markup to strip. */
export function cleanVerse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Every chapter, read through Debian's `bible` program (package bible-kjv, which brings bible-kjv-text). */
export async function loadKjv(program = 'bible'): Promise<CorpusDocument[]> {
  let out: string;
  try {
    ({ stdout: out } = await promisify(execFile)(program, ['-f', 'Gen1:1-Rev22:21'], { maxBuffer: 64 << 20, env: { ...process.env, COLUMNS: '100000' } }));
  } catch (e) {
    throw new CorpusPackageMissingError('kjv', 'bible-kjv', 'debian', (e as Error).message);
  }
  const docs = kjvToDocuments(out);
  if (docs.length < 1000) throw new Error(`kjv: '${program} -f Gen1:1-Rev22:21' gave ${docs.length} chapters, expected 1,189`);
  return docs;
}
