// Logit lens over a whole text: the residual stream entering every block, and leaving the last one, read
// through ln_f and the unembedding. The last row is the model's own prediction.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { hookName } from '../model/hooks.js';
import { lensLogits, topTokens, type TopToken } from '../model/lens.js';

export interface LensRow {
  /** Blocks before this residual stream: 0 for the embeddings, nLayer for the final stream. */
  depth: number;
  /** The hook read, e.g. `blocks.3.hook_resid_pre`; the last row is `blocks.{L−1}.hook_resid_post`. */
  hook: string;
  /** Short label for tables: `resid_pre 3`, `final`. */
  label: string;
  /** Per position, the top tokens, best first. */
  top: TopToken[][];
}

/** The lens rows for one sequence, one layer at a time (a [T, V] slab each, not [L, T, V] at once). */
export async function logitLensTable(model: GPT2, ids: number[], opts: { top: number }): Promise<LensRow[]> {
  const L = model.config.nLayer;
  const T = ids.length;
  const rows: { depth: number; hook: string; label: string }[] = [];
  for (let l = 0; l < L; l++) rows.push({ depth: l, hook: hookName(l, 'hook_resid_pre'), label: `resid_pre ${l}` });
  rows.push({ depth: L, hook: hookName(L - 1, 'hook_resid_post'), label: 'final' });
  const resids = tf.tidy(() => {
    const r = model.run({ ids: tf.tensor2d([ids], [1, T], 'int32') }, { hooks: rows.map((r) => r.hook), skipLogits: true });
    return rows.map((row) => r.cache.get(row.hook)!);
  });
  const k = Math.min(opts.top, model.config.vocabSize);
  try {
    const out: LensRow[] = [];
    for (const [i, row] of rows.entries()) {
      const logits = tf.tidy(() => tf.reshape(lensLogits(model, resids[i]), [T, -1]) as tf.Tensor2D);
      try {
        out.push({ ...row, top: await topTokens(logits, k) });
      } finally {
        logits.dispose();
      }
    }
    return out;
  } finally {
    tf.dispose(resids);
  }
}
