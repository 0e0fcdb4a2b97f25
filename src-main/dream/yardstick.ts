// The yardstick a dream must beat: the target's maximum over held-out corpus text (documents the model never
// trained on), measured exactly as dreams are (an <|endoftext|> prefix, hard, per token), and whether a dream is
// merely a copy of corpus text (then it is a corpus example, not a dream).
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { heldOutStream } from '../explain/records.js';
import { bosPadded } from './hard.js';
import type { Reduce, Target } from './objectives.js';
import { beatsSeed, seedOf, type Dream } from './records.js';

/**
 * The target's largest value over the first `maxTokens` held-out tokens, in windows of up to 64 tokens, reduced as
 * the dream's value is: per token for `max` and `last` (a last token is some token), and for `mean` the largest mean
 * of `span` consecutive tokens, so a dream's mean is compared with text's mean over as many tokens, not with one peak.
 */
export async function heldOutMax(
  model: GPT2,
  tok: TextTokenizer,
  target: Target,
  maxTokens = 20_000,
  batch = 16,
  opts: { reduce?: Reduce; span?: number } = {},
): Promise<{ max: number; tokens: number; text: string; snippet: string; reduce: Reduce; span: number }> {
  const reduce = opts.reduce ?? 'max';
  const span = reduce === 'mean' ? Math.max(1, opts.span ?? 1) : 1;
  const stream = await heldOutStream(tok);
  const W = Math.min(64, model.config.nPositions - 1);
  const n = Math.min(stream.tokens.length, maxTokens);
  // Activations only: the blocks up to the target's, no logits, no loss (the yardstick needs neither), and text
  // only for the window that holds the maximum.
  let best = { max: -Infinity, row: [] as number[], at: -1 };
  const stopAtLayer = Math.min(model.config.nLayer, target.maxLayer + 1);
  for (let s = 0; s < n; s += W * batch) {
    const rows: number[][] = [];
    for (let r = s; r < Math.min(n, s + W * batch); r += W) rows.push(Array.from(stream.tokens.subarray(r, Math.min(n, r + W))));
    const { ids, T } = bosPadded(rows, model.config.bosTokenId);
    const actT = tf.tidy(() => target.perToken(model.run({ ids: tf.tensor2d(ids, [rows.length, T], 'int32') }, { hooks: target.hooks, stopAtLayer }).cache));
    const act = (await actT.array()) as number[][];
    actT.dispose();
    rows.forEach((r, b) => {
      // Position 0 is the <|endoftext|> prefix, and padding lies past the row's length: neither counts. `at` is the
      // last token of the span.
      let sum = 0;
      for (let t = 0; t < r.length; t++) {
        sum += act[b][t + 1] - (t >= span ? act[b][t + 1 - span] : 0);
        if (t + 1 >= span && sum / span > best.max) best = { max: sum / span, row: r, at: t };
      }
    });
  }
  if (best.at < 0) return { max: -Infinity, text: '', snippet: '', tokens: n, reduce, span };
  // The strongest token (or span's last token) with up to 8 tokens either side, marked ⟦…⟧.
  const tokens = tok.tokenStrings(best.row);
  const at = best.at;
  const snippet = tokens.slice(Math.max(0, at - 8), at).join('') + `⟦${tokens[at]}⟧` + tokens.slice(at + 1, at + 9).join('');
  return { max: best.max, text: tok.decode(best.row), snippet, tokens: n, reduce, span };
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
  return beatsSeed(d);
}

/**
 * Of readable dreams (those that beat the yardstick, say), the one to show a person: the fewest edits of its seed
 * (read blind, one swapped word read as English more often than two: README, "Readability"), then the highest
 * syntax percentile. Null for none.
 */
export function mostReadable(dreams: Dream[]): Dream | null {
  return readableChoices(dreams, 1)[0] ?? null;
}

/** How many dreams that beat the maximum a person is shown (the CLI's verdict, the bench's rows), each from another seed. */
export const SHOWN_DREAMS = 3;

/**
 * Up to `n` dreams to show a person, each from another seed (another text, for dreams without one), in
 * mostReadable's order: the first is mostReadable's. One dream per neuron is a guess at what a reader accepts (the
 * search finds swaps that strain the sense beside ones that do not, and nothing computed here tells them apart), so
 * the CLI shows the next seeds' too. `rank` replaces the syntax percentile among dreams of as many edits (higher
 * first): a transformer judge's percentile (readability/modelJudge.ts) with `--judge-model`.
 */
export function readableChoices(dreams: Dream[], n: number, rank: (d: Dream) => number = (d) => d.readability!.percentile): Dream[] {
  const edits = (d: Dream) => d.origin?.edits ?? 0;
  // Stable: among equals the earlier dream stays first, as mostReadable's reduce kept it.
  const order = dreams.map((d, i) => ({ d, i, r: rank(d) })).sort((a, b) => edits(a.d) - edits(b.d) || b.r - a.r || a.i - b.i);
  const seen = new Set<string>();
  const out: Dream[] = [];
  for (const { d } of order) {
    const key = seedOf(d) ?? `text ${d.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
    if (out.length === n) break;
  }
  return out;
}
