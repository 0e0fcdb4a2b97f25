// Byte-level BPE tokenizer from a Hugging Face tokenizer.json (GPT-2's, with <|endoftext|> as a special token).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelFileError, readModelJSON } from './errors.js';

export interface TextTokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  /** Each id's own text, for per-token displays (a token may be part of a multi-byte character). */
  tokenStrings(ids: ArrayLike<number>): string[];
}

class HFTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number;
  constructor(private readonly tok: Tokenizer, vocabSize: number) {
    this.vocabSize = vocabSize;
    const eos = tok.token_to_id?.('<|endoftext|>');
    this.eosTokenId = typeof eos === 'number' ? eos : vocabSize - 1;
  }
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }
  decode(ids: ArrayLike<number>): string {
    // The library refuses an empty list; no tokens is the empty text (e.g. a latent the decoder ends at once).
    if (ids.length === 0) return '';
    return this.tok.decode(Array.from(ids), { skip_special_tokens: false });
  }
  tokenStrings(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.decode([id]));
  }
}

export function tokenizerFromJSON(json: unknown, vocabSize: number, file = 'tokenizer.json', config: object = {}): TextTokenizer {
  const j = json as { model?: { type?: string; vocab?: Record<string, number> } };
  if (!j || typeof j !== 'object' || !j.model || typeof j.model.vocab !== 'object') {
    throw new ModelFileError('no model.vocab: not a Hugging Face tokenizer.json', file, 'use the tokenizer.json saved with the checkpoint');
  }
  if (j.model.type !== undefined && j.model.type !== 'BPE') {
    throw new ModelFileError(`tokenizer model is ${j.model.type}, expected BPE`, file, 'use a GPT-2 byte-level BPE tokenizer.json');
  }
  return new HFTokenizer(new Tokenizer(json as object, config as object), vocabSize);
}

export async function readTokenizer(dir: string, vocabSize: number): Promise<TextTokenizer> {
  const file = join(dir, 'tokenizer.json');
  const json = await readModelJSON(file, "copy tokenizer.json from the checkpoint (GPT-2's own works for every GPT-2 model)", 'tokenizer.json');
  let cfg: object = {};
  try {
    cfg = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
  } catch {
    // tokenizer_config.json is optional for GPT-2; its absence changes nothing we use.
  }
  return tokenizerFromJSON(json, vocabSize, file, cfg);
}
