// Text → token ids for one model run, checked against the model's context, with the tokens as they display.
import type { GPT2Config } from '../model/config.js';
import { ModelInputError } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';

export interface TokenView {
  position: number;
  id: number;
  /** The token's own text (a piece of a multi-byte character may show as U+FFFD). */
  text: string;
}

/**
 * Encode a text that must fit one forward pass. `what` names the input in messages (e.g. `--text`).
 * Empty text and text longer than the context are refused with the numbers and the fix.
 */
export function encodeForModel(
  tokenizer: TextTokenizer,
  config: Pick<GPT2Config, 'nPositions'>,
  text: string,
  what = 'the text',
): number[] {
  if (text.length === 0) throw new ModelInputError(`${what} is empty: give at least one token of text`);
  const ids = tokenizer.encode(text);
  if (ids.length === 0) throw new ModelInputError(`${what} encodes to no tokens: give at least one token of text`);
  const n = ids.length;
  const ctx = config.nPositions;
  if (n > ctx) {
    throw new ModelInputError(
      `${what} is ${n} tokens but the model's context is ${ctx} tokens: shorten it by ${n - ctx} tokens (or split it into windows)`,
    );
  }
  return ids;
}

export function tokenViews(tokenizer: TextTokenizer, ids: number[]): TokenView[] {
  const texts = tokenizer.tokenStrings(ids);
  return ids.map((id, position) => ({ position, id, text: texts[position] }));
}
