/**
 * The Collaborative International Dictionary of English (GCIDE, GPL; Webster's 1913 with later additions), from
 * Debian's `dict-gcide` package: `/usr/share/dictd/gcide.dict.dz`, a dictzip file (gzip-compatible) in dictd's
 * text layout. We keep the English in it and nothing of the apparatus: the **quotations** (literary sentences,
 * indented under a sense, attribution `--Author.` removed) and the **definitions** (sense text, with headwords,
 * pronunciations, etymologies, field labels, cross-reference braces and `[1913 Webster]` source tags removed).
 * Accent markup such as `[ae]` or `[=e]` becomes plain letters; text with characters the conversion lost (`?`
 * inside a word, for Greek or special letters) is dropped. Entries are grouped into documents of
 * `GCIDE_ENTRIES_PER_DOC` consecutive headwords, so a held-out split keeps whole runs of the dictionary out.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { CorpusDocument } from './documents.js';
import { CorpusPackageMissingError } from './errors.js';

export const GCIDE_FILE = '/usr/share/dictd/gcide.dict.dz';
export const GCIDE_ENTRIES_PER_DOC = 400;

export interface GcideEntry {
  headword: string;
  definitions: string[];
  quotations: string[];
}

/** dictd text → entries. An entry starts at a line with no indentation; its blocks are separated by blank lines. */
export function parseGcide(raw: string): GcideEntry[] {
  const entries: GcideEntry[] = [];
  let lines: string[] = [];
  const flush = () => {
    if (lines.length > 0) {
      const e = parseEntry(lines);
      if (e) entries.push(e);
    }
    lines = [];
  };
  for (const line of raw.split(/\r?\n/)) {
    if (/^\S/.test(line)) flush();
    lines.push(line);
  }
  flush();
  return entries;
}

const SOURCE_TAG = /^\s*\[[^\]]*(?:Webster|WordNet|PJC|Century|Chambers|Wikipedia|RN|JC|MW|C\. Dict\.)[^\]]*\]\s*$/;

function parseEntry(lines: string[]): GcideEntry | undefined {
  const head = lines[0];
  // dictd's own metadata entries and the file-part banners are not dictionary text.
  if (/^00-database|^(?:\s*Begin file|The original data|No additional|changed version|apply to the|=+)/.test(head)) return undefined;
  const m = /^([^\\]+?)\s*\\/.exec(head);
  if (!m) return undefined;
  const entry: GcideEntry = { headword: m[1].trim(), definitions: [], quotations: [] };
  const blocks: string[][] = [[]];
  for (const l of lines) {
    if (l.trim() === '') blocks.push([]);
    else if (!SOURCE_TAG.test(l)) blocks[blocks.length - 1].push(l);
  }
  blocks.forEach((block, b) => {
    if (block.length === 0) return;
    const indents = block.map((l) => /^ */.exec(l)![0].length);
    if (b > 0 && Math.min(...indents) >= 9) {
      const q = cleanQuotation(block.map((l) => l.trim()).join(' '));
      if (q) entry.quotations.push(q);
      return;
    }
    // The headword line and the etymology that follows it: skip lines until the brackets it opened are closed.
    let body = block;
    if (b === 0) {
      let depth = 0;
      let i = 0;
      for (; i < block.length; i++) {
        if (i > 0 && depth <= 0) break;
        depth += bracketBalance(block[i]);
      }
      body = block.slice(i);
    }
    const d = cleanDefinition(body.map((l) => l.trim()).join(' '));
    if (d) entry.definitions.push(d);
  });
  return entry;
}

function bracketBalance(line: string): number {
  let d = 0;
  for (const ch of line) {
    if (ch === '[') d++;
    else if (ch === ']') d--;
  }
  return d;
}

/** GCIDE accent markup: `[ae]` ligatures, `[=e]` macrons, `[.a]`, `[a^]`, `['e]`, `[~n]` … → the plain letters. */
export function plainAccents(s: string): string {
  return s.replace(/\[([=.'"~`,]?)([a-z]{1,2})([\^~`']?)\]/g, '$2');
}

/** Lost characters (Greek and special letters came through as `?` inside words) make a text unusable. */
function hasLostCharacters(s: string): boolean {
  return /\w\?\w|\s\?\w|\w\?[^\s"')\]]/.test(s) || /[\\{}|<>*]/.test(s);
}

/** An attribution with chapter and verse (`--Gen. i. 3.`, `--Matt. v. 9.`) cites scripture, which the kjv source holds. */
const CHAPTER_AND_VERSE = /--\s*(?:\d\s*)?[A-Z][a-z]*\.?\s+[ivxlc]+\.\s*\d+/;

/**
 * One quotation: joined lines, accents made plain, the trailing `--Author.` attribution removed. Quotations of
 * scripture are dropped, so no King James verse reaches training through the dictionary while held out as kjv.
 */
export function cleanQuotation(s: string): string | undefined {
  if (CHAPTER_AND_VERSE.test(s)) return undefined;
  let t = plainAccents(s)
    .replace(/\s+--\s*[^-].*$/, '') // the attribution, at the end after whitespace
    .replace(/\s+/g, ' ')
    .trim();
  t = t.replace(/^[-–—\s]+/, '');
  if (!isProse(t)) return undefined;
  return t;
}

/** One sense: field labels, sense numbers, cross-reference braces, bracketed notes and attributions removed. */
export function cleanDefinition(s: string): string | undefined {
  let t = plainAccents(s).replace(/\{([^{}]*)\}/g, '$1');
  // Bracketed apparatus ([Obs.], [R.], etymologies), innermost first.
  for (let prev = ''; prev !== t; ) {
    prev = t;
    t = t.replace(/\[[^[\]]*\]/g, '');
  }
  t = t
    .replace(/\s--\s?[A-Z][\w.' &]*\.?(?=\s|$)/g, '') // --Gray. attributions
    .replace(/^\s*(?:\d+\.|\([a-z]\))\s*/, '') // sense number
    .replace(/^\s*(?:\((?:[A-Z][A-Za-z]*\.?\s?(?:&\s)?)+\)\s*)+/, '') // (Bot.), (Zool.) field labels
    .replace(/^(?:Syn\.|Note:)\s*/, '')
    .replace(/\s+/g, ' ')
    .replace(/\s+([,.;:])/g, '$1')
    .trim();
  if (/^Syn\b|^See\b|^Same as\b|^=/.test(t)) return undefined;
  if (!isProse(t)) return undefined;
  return t;
}

/** Enough words, mostly letters, starting like a sentence, and nothing the conversion lost. */
function isProse(t: string): boolean {
  if (t.length < 12 || hasLostCharacters(t)) return false;
  const words = t.split(' ');
  if (words.length < 4) return false;
  const letters = t.replace(/[^A-Za-z]/g, '').length;
  if (letters / t.length < 0.7) return false;
  return /^["'(]?[A-Z0-9]/.test(t) || /^[a-z]/.test(t);
}

/**
 * Entries → documents of `perDoc` consecutive headwords; each definition and quotation is one paragraph. A
 * paragraph already seen earlier in the dictionary (the same quotation cited under several headwords, a
 * definition repeated) is kept only at its first place.
 */
export function gcideDocuments(entries: GcideEntry[], perDoc = GCIDE_ENTRIES_PER_DOC): CorpusDocument[] {
  const docs: CorpusDocument[] = [];
  const seen = new Set<string>();
  const firstTime = (p: string) => {
    const key = p.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  for (let i = 0; i < entries.length; i += perDoc) {
    const group = entries.slice(i, i + perDoc);
    const paragraphs = group.flatMap((e) => [...e.definitions, ...e.quotations]).filter(firstTime);
    if (paragraphs.length === 0) continue;
    const n = String(docs.length + 1).padStart(4, '0');
    docs.push({ id: `gcide-${n}`, source: 'gcide', genre: 'dictionary', title: `${group[0].headword} – ${group[group.length - 1].headword}`, text: paragraphs.join('\n\n') });
  }
  return docs;
}

export async function loadGcide(file = GCIDE_FILE): Promise<CorpusDocument[]> {
  let raw: string;
  try {
    raw = gunzipSync(await readFile(file)).toString('latin1');
  } catch (e) {
    throw new CorpusPackageMissingError('gcide', 'dict-gcide', 'debian', (e as Error).message);
  }
  return gcideDocuments(parseGcide(raw));
}
