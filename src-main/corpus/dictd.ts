/**
 * Prose dictionaries in dictd's text layout from Debian's packages: FOLDOC (`dict-foldoc`, GFDL; computing), the
 * Jargon File (`dict-jargon`, public domain; hacker slang, much of it essays) and Ambrose Bierce's The Devil's
 * Dictionary (`dict-devil`, public domain). An entry starts at a line with no indentation (the headword; the
 * Devil's Dictionary writes its first sentence on that line too). We keep each entry's paragraphs of prose and drop
 * the apparatus: cross-reference braces, `<field>` labels, bracketed citations and usage tags, dates, addresses.
 * `GCIDE` has its own reader (gcide.ts): its quotations and etymologies need more care.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { CorpusDocument } from './documents.js';
import { CorpusPackageMissingError } from './errors.js';

export const DICTD_SOURCES = {
  foldoc: { file: '/usr/share/dictd/foldoc.dict.dz', debianPackage: 'dict-foldoc', genre: 'computing' },
  jargon: { file: '/usr/share/dictd/jargon.dict.dz', debianPackage: 'dict-jargon', genre: 'slang' },
  devil: { file: '/usr/share/dictd/devil.dict.dz', debianPackage: 'dict-devil', genre: 'satire' },
} as const;
export type DictdSource = keyof typeof DICTD_SOURCES;

export const DICTD_ENTRIES_PER_DOC = 100;

/** dictd text → each entry's prose paragraphs (entries without any are left out); dictd's 00-database entries skipped. */
export function dictdEntries(raw: string): { headword: string; paragraphs: string[] }[] {
  const out: { headword: string; paragraphs: string[] }[] = [];
  let head: string | undefined;
  let body: string[] = [];
  const flush = () => {
    if (head !== undefined && !head.startsWith('00-database') && !head.startsWith('00database')) {
      // The Devil's Dictionary: "ASS, n.  A public singer…" — the first sentence shares the headword's line.
      const inline = /^[A-Z][A-Z' -]*,\s*[a-z. ]+?\.\s{1,}(.+)$/.exec(head);
      const lines = inline ? [`   ${inline[1]}`, ...body] : body;
      const paragraphs = lines
        .join('\n')
        .split(/\n\s*\n/)
        .map(cleanDictdParagraph)
        .filter((p): p is string => p !== undefined);
      if (paragraphs.length) out.push({ headword: head.split(/,|\s{2}/)[0].trim(), paragraphs });
    }
    body = [];
  };
  // A headword is a line with no indentation after a blank line; the Devil's Dictionary also continues its
  // first paragraph on unindented lines, which belong to the entry above.
  let previousBlank = true;
  for (const line of raw.split(/\r?\n/)) {
    if (/^\S/.test(line) && previousBlank) {
      flush();
      head = line.trim();
    } else if (/^\S/.test(line) && body.every((l) => l.trim() === '')) head = `${head ?? ''} ${line.trim()}`;
    else body.push(line);
    previousBlank = line.trim() === '';
  }
  flush();
  return out;
}

/** One paragraph → plain prose, or undefined when what is left is not prose (a citation, a date, a verse line). */
export function cleanDictdParagraph(p: string): string | undefined {
  const lines = p.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return undefined;
  // Deeply indented blocks are verse, code or examples; attribution lines are short and far right.
  if (lines.every((l) => /^ {8,}/.test(l))) return undefined;
  let t = lines.map((l) => l.trim()).join(' ');
  t = t
    .replace(/\{\s*([^{}]*?)\s*\}/g, '$1')
    .replace(/<[a-z][^<>]*>/gi, '') // <programming>, <web>, e-mail addresses
    .replace(/\((?:https?|ftp):[^)]*\)|(?:https?|ftp):\/\/\S+/g, '')
    .replace(/\(\d{4}-\d\d-\d\d\)/g, '')
    .replace(/^\s*(?:\d+\.\s*)?(?:\[[^\]]*\]\s*)+/, '') // sense number, [common], [IBM] usage tags
    .replace(/_{1,2}([^_]+)_{1,2}/g, '$1')
    .replace(/\s+/g, ' ')
    .replace(/\s+([,.;:])/g, '$1')
    .replace(/\(\s*\)/g, '')
    .trim();
  if (/^\[.*\]\.?$/.test(t)) return undefined; // a bibliographic citation
  t = t.replace(/^\d+\.\s*/, '');
  const words = t.split(' ');
  if (words.length < 5 || t.length < 20) return undefined;
  if (t.replace(/[^A-Za-z]/g, '').length / t.length < 0.65) return undefined;
  return t;
}

/** Entries → documents of `perDoc` consecutive headwords; a paragraph seen before in the source is kept once. */
export function dictdDocuments(raw: string, source: DictdSource, perDoc = DICTD_ENTRIES_PER_DOC): CorpusDocument[] {
  const entries = dictdEntries(raw);
  const seen = new Set<string>();
  const docs: CorpusDocument[] = [];
  for (let i = 0; i < entries.length; i += perDoc) {
    const group = entries.slice(i, i + perDoc);
    const paragraphs = group.flatMap((e) => e.paragraphs).filter((p) => {
      const key = p.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (!paragraphs.length) continue;
    docs.push({
      id: `${source}-${String(docs.length + 1).padStart(4, '0')}`,
      source,
      genre: DICTD_SOURCES[source].genre,
      title: `${group[0].headword} – ${group[group.length - 1].headword}`,
      text: paragraphs.join('\n\n'),
    });
  }
  return docs;
}

export async function loadDictd(source: DictdSource, file: string = DICTD_SOURCES[source].file): Promise<CorpusDocument[]> {
  let raw: string;
  try {
    raw = gunzipSync(await readFile(file)).toString('utf8');
  } catch (e) {
    throw new CorpusPackageMissingError(source, DICTD_SOURCES[source].debianPackage, 'debian', (e as Error).message);
  }
  return dictdDocuments(raw, source);
}
