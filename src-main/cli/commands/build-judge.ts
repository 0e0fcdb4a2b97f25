// `textdream build-judge`: count the readability judge (a Kneser-Ney trigram model of lower-cased GPT-2 tokens, and
// a lexicon) on the judge split of a corpus, calibrate its percentiles on held-out windows, and write it.
import { resolve } from 'node:path';
import { CORPUS_NAMES, CorpusPackageMissingError, loadCorpus, type CorpusName } from '../../corpus/documents.js';
import { buildJudge } from '../../readability/judge.js';
import { writeJudgeFile } from '../../readability/judgeFile.js';
import { shippedJudgePath } from '../../readability/shipped.js';
import { readabilitySplits } from '../../readability/splits.js';
import { DEFAULT_WORD_LIST, readWordList } from '../../readability/wordList.js';
import { gpt2Tokenizer } from '../../train/lmCorpus.js';
import { inRange, parseInteger } from '../args.js';
import { defineCommand, printJSON, UsageError } from '../command.js';
import { parseChoice } from '../progress.js';

export default defineCommand({
  name: 'build-judge',
  summary: 'build the readability judge (n-gram model, lexicon, percentile table) from a corpus and write it',
  usage: '[--corpus english] [--out <file>] [--min-trigram-count <n>] [--word-list <file>|none]',
  options: {
    corpus: { type: 'string', arg: `<${CORPUS_NAMES.join('|')}>`, description: 'text the judge counts (its judge split) and calibrates on (its held-out split); default english' },
    out: { type: 'string', arg: '<file>', description: 'where the judge is written (default: the shipped resources/readability/judge.bin.gz)' },
    'min-trigram-count': { type: 'string', arg: '<n>', description: 'leave out the own counts of rarer trigrams (smaller file; aggregates stay exact); default 2' },
    'word-list': { type: 'string', arg: '<file>|none', description: `words added to the lexicon, one per line (default ${DEFAULT_WORD_LIST}, Debian's wamerican)` },
  },
  async run(values, _positionals, io) {
    const corpus: CorpusName = parseChoice(values.corpus, '--corpus', CORPUS_NAMES) ?? 'english';
    const minArg = parseInteger(values['min-trigram-count'], '--min-trigram-count');
    const minTrigramCount = minArg === undefined ? 2 : inRange(minArg, '--min-trigram-count', { min: 1, max: 1000 });
    if (values.out === '') throw new UsageError('--out is empty: give a file for the judge');
    const out = resolve(values.out ?? shippedJudgePath());
    const log = (s: string) => io.stderr(s + '\n');
    const wordListFile = values['word-list'] === 'none' ? null : resolve(values['word-list'] ?? DEFAULT_WORD_LIST);
    let docs;
    let wordList: string[] = [];
    try {
      docs = await loadCorpus(corpus);
      if (wordListFile) wordList = await readWordList(wordListFile);
    } catch (e) {
      if (e instanceof CorpusPackageMissingError) throw new UsageError(e.message);
      throw e;
    }
    const splits = readabilitySplits(docs);
    log(`${corpus}: judge ${splits.judge.length} documents, seed pool ${splits.seedPool.length}, held-out ${splits.heldOut.length}`);
    const t0 = Date.now();
    const judge = buildJudge(gpt2Tokenizer(), splits.judge.map((d) => d.text), splits.heldOut.map((d) => d.text), log, wordList);
    const command = `textdream build-judge --corpus ${corpus} --min-trigram-count ${minTrigramCount} --word-list ${wordListFile ?? 'none'}`;
    const bytes = await writeJudgeFile(out, judge, {
      corpus,
      splits: splits.settings,
      judgeDocuments: splits.judge.length,
      heldOutDocuments: splits.heldOut.length,
      minTrigramCount,
      wordList: wordListFile ? { file: wordListFile, words: wordList.length } : null,
      command,
    });
    const report = { out, bytes, tokens: judge.ngram.trainingTokens, lexicon: judge.lexicon.size, seconds: (Date.now() - t0) / 1000, command };
    if (values.json) printJSON(io, report);
    else io.stdout(`wrote ${out} (${(bytes / 1e6).toFixed(1)} MB): ${report.tokens} tokens counted, ${report.lexicon} words in the lexicon, ${report.seconds.toFixed(0)} s\n`);
    return 0;
  },
});
