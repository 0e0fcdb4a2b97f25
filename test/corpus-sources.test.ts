// The readers of the Debian-packaged sources (King James Bible, GCIDE) on fixed excerpts in their real layouts,
// and the per-source split. The packages themselves are not needed: the readers are pure functions of the text.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CorpusPackageMissingError } from '../src-main/corpus/errors.js';
import { cleanDefinition, cleanQuotation, gcideDocuments, loadGcide, parseGcide, plainAccents } from '../src-main/corpus/gcide.js';
import { dictdDocuments, dictdEntries, loadDictd } from '../src-main/corpus/dictd.js';
import { kjvToDocuments, loadKjv } from '../src-main/corpus/kjv.js';
import type { CorpusDocument } from '../src-main/corpus/documents.js';
import { splitBySource, splitDocuments } from '../src-main/corpus/split.js';

const BIBLE = [
  'Ge1:1 In the beginning God created the heaven and the earth.',
  'Ge1:2 And the earth was without form, and void; and darkness was upon the face of the deep.',
  'Ge2:1 Thus the heavens and the earth were finished,',
  '      and all the host of them.',
  '1Sm3:4 That the LORD called Samuel: and he answered, Here am I.',
  '',
].join('\n');

describe('King James Bible reader', () => {
  it('makes one document per chapter, joins verses and wrapped lines', () => {
    const docs = kjvToDocuments(BIBLE);
    expect(docs.map((d) => d.id)).toEqual(['kjv-ge-1', 'kjv-ge-2', 'kjv-1sm-3']);
    expect(docs[0].text).toBe('In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was upon the face of the deep.');
    expect(docs[1].text).toBe('Thus the heavens and the earth were finished, and all the host of them.');
    expect(docs[2]).toMatchObject({ source: 'kjv', title: '1Sm 3', text: 'That the LORD called Samuel: and he answered, Here am I.' });
  });

  it('names the Debian package when the bible program is missing', async () => {
    const err = await loadKjv('/nonexistent/bible').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorpusPackageMissingError);
    expect((err as Error).message).toContain('apt-get install bible-kjv');
  });
});

// Three entries as dict-gcide lays them out: headword line with pronunciation and a bracketed etymology that
// spans lines, numbered senses with field labels, source tags, indented quotations with attributions.
const GCIDE = `00-database-short
   The Collaborative International Dictionary of English v.0.48

Affear \\Af*fear"\\, v. t. [OE. aferen, AS. [=a]f?ran. See
   {Afeard}.]
   To frighten. [Obs.] --Spenser.
   [1913 Webster]

Affect \\Af*fect"\\, v. t. [imp. & p. p. {Affected}.] [L.
   affectus.]
   1. To act upon; to produce an effect or change upon.
      [1913 Webster]

            The climate affected their health and spirits.
                                                  --Macaulay.
      [1913 Webster]

   2. (Bot.) To influence or move, as the feelings or passions; to
      touch.
      [1913 Webster]

            Let there be light, and there was light, said he. --Gen. i. 3.
      [1913 Webster]

Lamina \\Lam"i*na\\, n.
   A thin plate or scale; a layer lying over another; as, lamin[ae] of mica.
   [1913 Webster]

            The climate affected their health and spirits.
                                                  --Macaulay.
      [1913 Webster]

            A word with a lost ?way letter in it here.  --Dryden.
      [1913 Webster]
`;

describe('GCIDE reader', () => {
  it('keeps definitions and quotations, drops headwords, etymologies, labels, tags and attributions', () => {
    const entries = parseGcide(GCIDE);
    expect(entries.map((e) => e.headword)).toEqual(['Affear', 'Affect', 'Lamina']);
    expect(entries[0].definitions).toEqual([]); // "To frighten." is too short to be prose
    expect(entries[1].definitions).toEqual(['To act upon; to produce an effect or change upon.', 'To influence or move, as the feelings or passions; to touch.']);
    // The scripture quotation (chapter and verse) is dropped: the kjv source holds the Bible.
    expect(entries[1].quotations).toEqual(['The climate affected their health and spirits.']);
    expect(entries[2].definitions).toEqual(['A thin plate or scale; a layer lying over another; as, laminae of mica.']);
    // A quotation with a character the conversion lost is dropped, not kept with a '?' in a word.
    expect(entries[2].quotations).toEqual(['The climate affected their health and spirits.']);
  });

  it('groups entries into documents and keeps a repeated paragraph only once', () => {
    const docs = gcideDocuments(parseGcide(GCIDE), 2);
    expect(docs.map((d) => d.id)).toEqual(['gcide-0001', 'gcide-0002']);
    expect(docs[0].text.split('\n\n')).toEqual([
      'To act upon; to produce an effect or change upon.',
      'To influence or move, as the feelings or passions; to touch.',
      'The climate affected their health and spirits.',
    ]);
    expect(docs[1].text).toBe('A thin plate or scale; a layer lying over another; as, laminae of mica.');
  });

  it('cleans single fields', () => {
    expect(plainAccents('l[a^]m[i^]n[.a] and [ae]on, p[=e]n')).toBe('lamina and aeon, pen');
    expect(cleanQuotation('Careless she is with artful care,   --Congreve.')).toBe('Careless she is with artful care,');
    expect(cleanDefinition('3. (Zool.) A thin plate; specif., one of the {Flat} processes [R.] of a feather. --Gray.')).toBe(
      'A thin plate; specif., one of the Flat processes of a feather.',
    );
    expect(cleanDefinition('See {Lamantin}.')).toBeUndefined();
  });

  it('reads a dictzip (gzip) file and names the Debian package when it is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'textdream-gcide-'));
    try {
      const file = join(dir, 'gcide.dict.dz');
      await writeFile(file, gzipSync(Buffer.from(GCIDE, 'latin1')));
      const docs = await loadGcide(file);
      expect(docs).toHaveLength(1);
      expect(docs[0].source).toBe('gcide');
      const err = await loadGcide(join(dir, 'missing.dz')).catch((e: unknown) => e);
      expect((err as Error).message).toContain('apt-get install dict-gcide');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('splitBySource', () => {
  const docs = (source: string, n: number, genre?: string): CorpusDocument[] =>
    Array.from({ length: n }, (_, i) => ({ id: `${source}-${i}`, source, genre, text: `text ${i}` }));
  const brown = docs('brown', 40, 'news');
  const sotu = docs('sotu', 60);
  const kjv = docs('kjv', 100, 'scripture');

  it('splits Brown + SOTU exactly as before other sources existed, and each new source on its own', () => {
    const opts = { heldOutFraction: 0.1, seed: 7 };
    const alone = splitDocuments([...brown, ...sotu], opts);
    const mixed = splitBySource([...brown, ...sotu, ...kjv], opts);
    const ids = (d: CorpusDocument[]) => d.map((x) => x.id);
    expect(ids(mixed.heldOut.filter((d) => d.source !== 'kjv'))).toEqual(ids(alone.heldOut));
    expect(ids(mixed.heldOut.filter((d) => d.source === 'kjv'))).toEqual(ids(splitDocuments(kjv, opts).heldOut));
    expect(mixed.heldOut.filter((d) => d.source === 'kjv')).toHaveLength(10);
    const train = new Set(ids(mixed.train));
    expect(mixed.heldOut.some((d) => train.has(d.id))).toBe(false);
    expect(mixed.train.length + mixed.heldOut.length).toBe(200);
  });
});

// The three prose dictionaries' layouts: FOLDOC (<field> labels, {cross references}, citations, dates), the
// Jargon File ([usage] tags, indented verse) and The Devil's Dictionary (first sentence on the headword's line).
const FOLDOC = `00-database-url
     http://example.invalid/

actor

   1. <programming> In {object-oriented} programming, an {object}
   which exists as a {concurrent} process.

   ["Actor Does More than Windows", E.R. Tello, Dr Dobb's J
   13(1):114-125 (Jan 1988)].

   (1994-11-08)

blue wire
 n.

    [IBM] Patch wires added to circuit boards at the
    factory to correct design or fabrication problems.

            Windows NT crashed.
            I am the Blue Screen of Death

ASS, n.  A public singer with a good voice but no ear.  In Virginia
City, Nevada, he is called the Washoe Canary.
`;

describe("dictd prose reader (FOLDOC, Jargon File, Devil's Dictionary)", () => {
  it('keeps prose paragraphs and drops labels, citations, dates and verse', () => {
    const entries = dictdEntries(FOLDOC);
    expect(entries).toEqual([
      { headword: 'actor', paragraphs: ['In object-oriented programming, an object which exists as a concurrent process.'] },
      { headword: 'blue wire', paragraphs: ['Patch wires added to circuit boards at the factory to correct design or fabrication problems.'] },
      { headword: 'ASS', paragraphs: ['A public singer with a good voice but no ear. In Virginia City, Nevada, he is called the Washoe Canary.'] },
    ]);
    const docs = dictdDocuments(FOLDOC, 'foldoc', 2);
    expect(docs.map((d) => [d.id, d.source, d.text.split('\n\n').length])).toEqual([
      ['foldoc-0001', 'foldoc', 2],
      ['foldoc-0002', 'foldoc', 1],
    ]);
  });

  it('names the Debian package when the file is missing', async () => {
    const err = await loadDictd('jargon', '/nonexistent/jargon.dict.dz').catch((e: unknown) => e);
    expect((err as Error).message).toContain('apt-get install dict-jargon');
  });
});
