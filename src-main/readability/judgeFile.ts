// The readability judge on disk: one gzip file holding a JSON header (provenance, lexicon, percentile tables, word
// classes, array layout) and the two n-gram models' counts as flat arrays (the token model's, then the syntax
// model's), keys stored as deltas (ascending keys make small numbers, which gzip packs far better than raw 64-bit
// keys). Written once by `textdream build-judge`, read at start-up.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { TextTokenizer } from '../model/tokenizer.js';
import { PercentileTable } from './calibration.js';
import { ReadabilityJudge } from './judge.js';
import { KneserNeyJudge, type KneserNeyArrays, type PackedCounts } from './kneserNey.js';
import { WordClasses } from './wordClasses.js';

// Version 2 added the syntax model; a version-1 file is refused with the command that rebuilds it.
const MAGIC = 'textdream-judge-2';
const ARRAYS = ['tri', 'ctx2', 'ctx2Types', 'cont2', 'cont2Total', 'cont2Types', 'cont1', 'uni'] as const;

export interface JudgeProvenance {
  /** What the judge counted and how it was split: recorded with every result that uses it. */
  corpus: string;
  splits: unknown;
  judgeDocuments: number;
  heldOutDocuments: number;
  minTrigramCount: number;
  /** The word list added to the lexicon, and how many words it gave. */
  wordList: { file: string; words: number } | null;
  command: string;
}

/** One n-gram model's scalars and the lengths of its arrays. */
interface ModelHeader {
  vocabSize: number;
  discount: number;
  tokens: number;
  bigramTypes: number;
  arrays: Record<string, number>;
}

interface Header extends ModelHeader {
  magic: string;
  provenance: JudgeProvenance;
  lexicon: string[];
  table: Record<string, number[]>;
  syntax: ModelHeader & { words: string[]; table: Record<string, number[]> };
}

function packModel(a: KneserNeyArrays, parts: Buffer[]): ModelHeader {
  const arrays: Record<string, number> = {};
  for (const name of ARRAYS) {
    const p = a[name];
    arrays[name] = p.keys.length;
    // Deltas of ascending keys are integers below 2^53: exact in a Float64Array.
    const deltas = new Float64Array(p.keys.length);
    for (let i = 0; i < deltas.length; i++) deltas[i] = p.keys[i] - (i ? p.keys[i - 1] : 0);
    parts.push(Buffer.from(deltas.buffer), Buffer.from(p.values.buffer));
  }
  return { vocabSize: a.vocabSize, discount: a.discount, tokens: a.tokens, bigramTypes: a.bigramTypes, arrays };
}

export async function writeJudgeFile(file: string, judge: ReadabilityJudge, provenance: JudgeProvenance): Promise<number> {
  const parts: Buffer[] = [];
  const model = packModel(judge.ngram.toArrays(provenance.minTrigramCount), parts);
  // The syntax model is small (a few hundred classes): every count is kept.
  const syntax = packModel(judge.syntax.ngram.toArrays(1), parts);
  const header: Header = {
    magic: MAGIC,
    provenance,
    ...model,
    lexicon: [...judge.lexicon].sort(),
    table: judge.table.toJSON(),
    syntax: { ...syntax, words: [...judge.syntax.classes.words], table: judge.syntax.table.toJSON() },
  };
  const head = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  const body = gzipSync(Buffer.concat([len, head, ...parts]), { level: 9 });
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, body);
  await rename(`${file}.tmp`, file);
  return body.length;
}

export class JudgeFileError extends Error {
  override readonly name = 'JudgeFileError';
}

export async function readJudgeFile(file: string, tok: TextTokenizer): Promise<{ judge: ReadabilityJudge; provenance: JudgeProvenance }> {
  let raw: Buffer;
  try {
    raw = gunzipSync(await readFile(file));
  } catch (e) {
    throw new JudgeFileError(`cannot read the readability judge ${file} (${(e as Error).message.split('\n')[0]}); rebuild it with: textdream build-judge --out ${file}`);
  }
  const n = raw.readUInt32LE(0);
  const header = JSON.parse(raw.subarray(4, 4 + n).toString('utf8')) as Header;
  if (header.magic !== MAGIC) {
    throw new JudgeFileError(`${file} is not a textdream readability judge of this version (magic ${String(header.magic)}, expected ${MAGIC}); rebuild it with: textdream build-judge --out ${file}`);
  }
  if (header.vocabSize !== tok.vocabSize) {
    throw new JudgeFileError(`${file} was built for a vocabulary of ${header.vocabSize} tokens, this tokenizer has ${tok.vocabSize}: build a judge for it with textdream build-judge`);
  }
  let offset = 4 + n;
  const unpackModel = (m: ModelHeader): KneserNeyJudge => {
    const arrays = {} as Record<(typeof ARRAYS)[number], PackedCounts>;
    for (const name of ARRAYS) {
      const count = m.arrays[name];
      if (offset + 12 * count > raw.length) throw new JudgeFileError(`${file} is truncated or corrupt (${raw.length} bytes); rebuild it`);
      // Copy out of the shared buffer: typed arrays need aligned offsets.
      const deltas = new Float64Array(raw.buffer.slice(raw.byteOffset + offset, raw.byteOffset + offset + 8 * count));
      offset += 8 * count;
      const values = new Uint32Array(raw.buffer.slice(raw.byteOffset + offset, raw.byteOffset + offset + 4 * count));
      offset += 4 * count;
      const keys = new Float64Array(count);
      for (let i = 0; i < count; i++) keys[i] = deltas[i] + (i ? keys[i - 1] : 0);
      arrays[name] = { keys, values };
    }
    return KneserNeyJudge.fromArrays({ vocabSize: m.vocabSize, discount: m.discount, tokens: m.tokens, bigramTypes: m.bigramTypes, ...arrays });
  };
  const ngram = unpackModel(header);
  const syntaxNgram = unpackModel(header.syntax);
  if (offset !== raw.length) throw new JudgeFileError(`${file} is truncated or corrupt (${raw.length} bytes, expected ${offset}); rebuild it`);
  const classes = new WordClasses(header.syntax.words);
  if (classes.size !== header.syntax.vocabSize) {
    throw new JudgeFileError(`${file}: its syntax model has ${header.syntax.vocabSize} classes, this version of textdream makes ${classes.size} from its words; rebuild it with: textdream build-judge --out ${file}`);
  }
  const syntax = { classes, ngram: syntaxNgram, table: PercentileTable.fromJSON(header.syntax.table) };
  const judge = new ReadabilityJudge(ngram, new Set(header.lexicon), PercentileTable.fromJSON(header.table), tok, syntax);
  return { judge, provenance: header.provenance };
}
