// The seed source the CLI and the engine give `seeded`: windows of the readability splits' seed pool (documents
// neither the judge counted nor the yardstick holds), measured for the target on demand.
import { loadCorpus, type CorpusName } from '../corpus/documents.js';
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { documentWordsById } from '../readability/documentVocabulary.js';
import { readabilitySplits } from '../readability/splits.js';
import * as tf from '@tensorflow/tfjs-core';
import { reduceValues } from './hard.js';
import type { Reduce } from './objectives.js';
import { seedWindows, type SeedSource } from './seeded.js';

/** How many seed-pool windows `seeded` measures for a target before it picks its seeds. */
export const SEED_WINDOWS = 1000;

/** Seed-pool documents of a corpus, tokenised. */
export async function seedPoolDocuments(corpus: CorpusName, tok: TextTokenizer): Promise<{ id: string; ids: number[] }[]> {
  return readabilitySplits(await loadCorpus(corpus)).seedPool.map((d) => ({ id: d.id, ids: tok.encode(d.text) }));
}

type Window = ReturnType<typeof seedWindows>[number];

/** Window activations kept per (hook or target, reduce, length): a few layers' worth, most recent last. */
const KEPT_SCANS = 4;

/**
 * Measure up to `maxWindows` seed-pool windows for the target (each one forward pass, counted as the seeds' cost) and
 * hand the best `count`, distinct in text, to the search. Only activations are computed: the blocks after the
 * target's and the unembedding never run. A neuron's windows are measured for its whole layer at once and kept, so
 * the layer's other neurons find theirs without another pass (what a sweep of a layer asks next); their values
 * are the same whichever neuron asked first, as every neuron comes from the same batches.
 */
export function seedSourceFrom(model: GPT2, tok: TextTokenizer, docs: { id: string; ids: number[] }[], maxWindows: number, batch = 32): SeedSource {
  // The windows of each length, picked once (a pass over the whole pool, decoding every candidate window).
  const windowsOf = new Map<number, Window[]>();
  const windows = (seqLen: number) => {
    let w = windowsOf.get(seqLen);
    if (!w) windowsOf.set(seqLen, (w = seedWindows(docs, tok, seqLen, maxWindows)));
    return w;
  };
  // Each seed's document words, decoded once per document a seed comes from.
  const docsById = new Map(docs.map((d) => [d.id, d]));
  const docWords = documentWordsById((id) => tok.decode(docsById.get(id)!.ids));
  const scans = new Map<string, Promise<{ values: Float64Array; width: number }>>();
  const scan = (key: string, seqLen: number, hooks: string[], maxLayer: number, read: (cache: Map<string, tf.Tensor>) => tf.Tensor, reduce: Reduce) => {
    let got = scans.get(key);
    if (!got) {
      got = measureWindows(model, windows(seqLen), hooks, maxLayer, read, reduce, batch);
      // A failed scan is not kept; the oldest goes when too many are.
      got.catch(() => scans.get(key) === got && scans.delete(key));
      scans.set(key, got);
      if (scans.size > KEPT_SCANS) scans.delete(scans.keys().next().value!);
    }
    return got;
  };
  return async (target, reduce, seqLen, count) => {
    const unit = target.unit;
    const measured = windows(seqLen);
    const { values, width } = unit
      ? await scan(`${unit.hook}|${reduce}|${seqLen}`, seqLen, [unit.hook], target.maxLayer, (cache) => cache.get(unit.hook)!, reduce)
      : // Any other target: measured on its own (nothing to share), never kept (a direction or a sum is built per run).
        await measureWindows(model, windows(seqLen), target.hooks, target.maxLayer, (cache) => tf.expandDims(target.perToken(cache), 2), reduce, batch);
    if (!measured.length) return { seeds: [], cost: 0 };
    const column = unit ? unit.index : 0;
    if (column >= width) throw new RangeError(`${target.description}: the hook ${unit!.hook} has units 0-${width - 1}`);
    const scored = measured.map((w, i) => ({ ids: w.ids, text: w.text, value: values[i * width + column], docId: w.docId, next: w.next }));
    scored.sort((a, b) => b.value - a.value);
    const seen = new Set<string>();
    const seeds = scored.filter((s) => Number.isFinite(s.value) && !seen.has(s.text) && (seen.add(s.text), true)).slice(0, count);
    return { seeds: seeds.map((s) => ({ ...s, docWords: docWords(s.docId) })), cost: measured.length };
  };
}

/**
 * [windows, units] values of `read` (a [B, T, units] tensor of a run's cache) over equal-length windows, each after
 * <|endoftext|> (never counted), reduced over the window's tokens; runs stop after block `maxLayer`.
 */
async function measureWindows(
  model: GPT2,
  windows: Window[],
  hooks: string[],
  maxLayer: number,
  read: (cache: Map<string, tf.Tensor>) => tf.Tensor,
  reduce: Reduce,
  batch: number,
): Promise<{ values: Float64Array; width: number }> {
  const bos = model.config.bosTokenId;
  // Blocks after the target's are never needed (a target of the last block, or of none, runs them all).
  const stopAtLayer = maxLayer >= 0 && maxLayer < model.config.nLayer - 1 ? maxLayer + 1 : undefined;
  const parts: Float64Array[] = [];
  let width = 0;
  for (let i = 0; i < windows.length; i += batch) {
    const rows = windows.slice(i, i + batch);
    const T = rows[0].ids.length + 1;
    const perToken = tf.tidy(() => {
      const run = model.run({ ids: tf.tensor2d(rows.map((r) => [bos, ...r.ids]), [rows.length, T], 'int32') }, { hooks, skipLogits: true, stopAtLayer });
      return tf.slice(read(run.cache), [0, 1, 0], [-1, -1, -1]);
    });
    width = perToken.shape[2]!;
    const a = (await perToken.data()) as Float32Array;
    perToken.dispose();
    // Reduced here as the hard evaluation reduces (reduceValues, in double precision), so a seed's value is the
    // value its window has when measured on its own.
    const n = T - 1;
    const part = new Float64Array(rows.length * width);
    const values = new Array<number>(n);
    for (let r = 0; r < rows.length; r++) {
      for (let u = 0; u < width; u++) {
        for (let t = 0; t < n; t++) values[t] = a[(r * n + t) * width + u];
        part[r * width + u] = reduceValues(values, reduce);
      }
    }
    parts.push(part);
  }
  const values = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (values.set(p, at), (at += p.length));
  return { values, width };
}

/**
 * The seed source every front end gives `seeded` (CLI, engine, sweep jobs): Brown + SOTU's seed pool, read and
 * tokenised on first use (a process that never dreams `seeded` never reads it), then kept. A failed read is not kept.
 */
export function shippedSeedSource(model: GPT2, tok: TextTokenizer): SeedSource {
  let source: Promise<SeedSource> | null = null;
  return async (...args) => {
    if (!source) {
      const loading = seedPoolDocuments('brown+sotu', tok).then((docs) => seedSourceFrom(model, tok, docs, SEED_WINDOWS));
      loading.catch(() => {
        if (source === loading) source = null;
      });
      source = loading;
    }
    return (await source)(...args);
  };
}
