// The yardstick a dream must beat: the target's maximum over held-out corpus text (documents the model never
// trained on), measured exactly as dreams are (an <|endoftext|> prefix, hard, per token), and whether a dream is
// merely a copy of corpus text (then it is a corpus example, not a dream).
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { heldOutStream } from '../explain/records.js';
import { measureIds } from './hard.js';
import type { Target } from './objectives.js';
import type { Dream } from './records.js';

/** The target's largest per-token value over the first `maxTokens` held-out tokens, in windows of up to 64 tokens. */
export async function heldOutMax(model: GPT2, tok: TextTokenizer, target: Target, maxTokens = 20_000, batch = 16): Promise<{ max: number; tokens: number; text: string; snippet: string }> {
  const stream = await heldOutStream(tok);
  const W = Math.min(64, model.config.nPositions - 1);
  const n = Math.min(stream.tokens.length, maxTokens);
  let best = { max: -Infinity, text: '', snippet: '' };
  for (let s = 0; s < n; s += W * batch) {
    const rows: number[][] = [];
    for (let r = s; r < Math.min(n, s + W * batch); r += W) rows.push(Array.from(stream.tokens.subarray(r, Math.min(n, r + W))));
    for (const e of await measureIds(model, tok, target, rows, 'max')) {
      if (!(e.max > best.max)) continue;
      // The strongest token with up to 8 tokens either side, marked ⟦…⟧.
      const at = e.perToken.indexOf(e.max);
      const snippet = e.tokens.slice(Math.max(0, at - 8), at).join('') + `⟦${e.tokens[at]}⟧` + e.tokens.slice(at + 1, at + 9).join('');
      best = { max: e.max, text: e.text, snippet };
    }
  }
  return { ...best, tokens: n };
}

/** Corpus text lower-cased with whitespace collapsed, for `isCorpusCopy`. */
export function normaliseForCopy(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** A dream whose text occurs verbatim (up to case and spacing) in the corpus is a corpus example, not a dream. */
export function isCorpusCopy(dreamText: string, normalisedCorpus: string): boolean {
  const t = normaliseForCopy(dreamText);
  return t.length > 0 && normalisedCorpus.includes(t);
}

/**
 * Whether a dream counts under the split rules: readable, not a copy of corpus text, and — when it was edited from a
 * seed — changed by at least one edit and more activating than its seed.
 */
export function countsAsDream(d: Dream, normalisedCorpus: string): boolean {
  if (!d.readability?.readable || isCorpusCopy(d.text, normalisedCorpus)) return false;
  if (d.origin) return d.origin.edits >= 1 && d.value > d.origin.seedValue;
  return true;
}
