// A word list for the judge's lexicon: Debian's `wamerican` (SCOWL, Kevin Atkinson's spell-checker word lists,
// permissive licence), one word per line. The judge's own text (Brown, State of the Union, the KJV, GCIDE …) misses
// many ordinary words ("bulldozes"), and the lexicon rule would call real text unreadable for them.
import { readFile } from 'node:fs/promises';
import { CorpusPackageMissingError } from '../corpus/errors.js';

export const DEFAULT_WORD_LIST = '/usr/share/dict/american-english';

/** Lower-cased words of a one-word-per-line list; a missing default names the Debian package that carries it. */
export async function readWordList(file = DEFAULT_WORD_LIST): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (file === DEFAULT_WORD_LIST) throw new CorpusPackageMissingError('word list', 'wamerican', 'debian', (e as Error).message);
    throw new Error(`cannot read the word list ${file} (${(e as Error).message.split('\n')[0]}): give a file with one word per line`);
  }
  const words = [...new Set(text.split('\n').map((w) => w.trim().toLowerCase().replace('’', "'")).filter((w) => w.length > 0))];
  if (words.length === 0) throw new Error(`the word list ${file} has no words: give a file with one word per line`);
  return words;
}
