/**
 * Word classes for the syntax judge: a text becomes a sequence of coarse classes — each of the judge text's most
 * frequent words as itself (the function words that carry English syntax: the, of, is, which, not …), each common
 * punctuation mark as itself, and every other word by its shape (suffix, capital, number). An n-gram model over
 * these classes scores word order without knowing the words, so a real sentence full of rare words ("the developer
 * bulldozes out the trees") scores like any sentence of that shape, and frequent words in a random order do not.
 */

/** Pieces of text: a word (letters or digits, with apostrophe suffixes) or one punctuation character. */
const PIECE = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*|[^\s\p{L}\p{N}]/gu;

export const PUNCTUATION = ['.', ',', ';', ':', '!', '?', '"', "'", '(', ')', '-', '[', ']', '&', '$', '%', '/', '*'] as const;

/** Shapes of the words that are not frequent enough to be their own class, tried in order. */
export const SHAPES: readonly (readonly [string, RegExp])[] = [
  ['number', /^\p{N}+$/u],
  ['-ly', /ly$/],
  ['-ing', /ing$/],
  ['-ed', /ed$/],
  ['-tion', /(tion|sion|ment|ness|ity)s?$/],
  ['-ous', /(ful|less|ous|ive|able|ible|al|ic)$/],
  ['-er', /(er|or)s?$/],
  ['-s', /s$/],
  ['word', /./u],
];

/** How many of the judge text's most frequent words are classes of their own. */
export const FREQUENT_WORDS = 150;

export function textPieces(text: string): string[] {
  return text.match(PIECE) ?? [];
}

export class WordClasses {
  private readonly index = new Map<string, number>();

  /** `words`: the frequent words, lower-cased, each its own class. */
  constructor(readonly words: readonly string[]) {
    const add = (key: string) => {
      if (this.index.has(key)) throw new Error(`WordClasses: duplicate class ${key}`);
      this.index.set(key, this.index.size);
    };
    for (const w of words) add(`w:${w}`);
    for (const p of PUNCTUATION) add(`p:${p}`);
    add('p:other');
    for (const [name] of SHAPES) {
      add(`s:${name}`);
      add(`S:${name}`);
    }
  }

  /** The number of classes (the syntax model's vocabulary). */
  get size(): number {
    return this.index.size;
  }

  /** The class of one piece of text (textPieces). */
  classOf(piece: string): number {
    const lower = piece.toLowerCase();
    if (!/[\p{L}\p{N}]/u.test(piece)) return this.index.get(`p:${piece}`) ?? this.index.get('p:other')!;
    const own = this.index.get(`w:${lower}`);
    if (own !== undefined) return own;
    // A capital outside the frequent words marks a name or a sentence start: both matter to the order.
    const cap = /^\p{Lu}/u.test(piece) ? 'S' : 's';
    for (const [name, re] of SHAPES) if (re.test(lower)) return this.index.get(`${cap}:${name}`)!;
    throw new Error(`WordClasses: no shape for ${piece}`); // unreachable: the last shape matches any word
  }

  ids(text: string): number[] {
    return textPieces(text).map((p) => this.classOf(p));
  }

  /** The `n` most frequent words of `texts` (lower-cased; ties broken alphabetically, so the list is reproducible). */
  static fromTexts(texts: Iterable<string>, n = FREQUENT_WORDS): WordClasses {
    const counts = new Map<string, number>();
    for (const t of texts) {
      for (const p of textPieces(t)) {
        if (!/\p{L}/u.test(p)) continue;
        const w = p.toLowerCase();
        counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    }
    const words = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n).map(([w]) => w);
    return new WordClasses(words);
  }
}
