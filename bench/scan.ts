// Corpus scan throughput: `runScan` (forward + per-window reductions + top-k + histogram + checkpoints in SQLite)
// against the bare forward passes over the same windows in the same batches (same hooks on mlp.hook_post, same
// stopAtLayer, no logits, activations read back), in the same process: each batch runs bare and scanned back to
// back (alternating which goes first), so load from other processes weighs on both alike.
//
//   npx tsx bench/scan.ts [--backend wasm] [--batch 8] [--window 64] [--batches 40] [--distil-batches 3] [--rounds 1] [--no-distil]
//
// Models: the embedded default model (resources/models/textdream-gpt2-small) when it exists, else a random model of
// its shape (DEFAULT_TRAIN_LM.shape: the same cost); and a random distilgpt2-shaped model (6 × 768, MLP 3,072) for
// a few batches only. Corpus: Brown documents. Prints one JSON object; `ratio` = scan time / bare time (target ≤ 1.2).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import { loadCorpus } from '../src-main/corpus/documents.js';
import type { GPT2 } from '../src-main/model/gpt2.js';
import { defaultModelDir, loadModel } from '../src-main/model/load.js';
import type { TextTokenizer } from '../src-main/model/tokenizer.js';
import { batchIds, bareForward } from '../src-main/scan/batch.js';
import { planWindows } from '../src-main/scan/corpus.js';
import { runScan } from '../src-main/scan/run.js';
import { SqliteStore } from '../src-main/store/sqlite.js';
import type { ScanConfig } from '../src-main/store/types.js';
import { gpt2Tokenizer } from '../src-main/train/lmCorpus.js';
import { DEFAULT_TRAIN_LM } from '../src-main/train/trainLMJob.js';
import { buildGPT2, DISTILGPT2_SHAPE, randomCheckpoint, type ModelShape } from './lib/randomModel.js';
import { emitJson, log, machineInfo, median } from './lib/timing.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '8' },
    window: { type: 'string', default: '64' },
    batches: { type: 'string', default: '40' },
    'distil-batches': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1' },
    'no-distil': { type: 'boolean', default: false },
  },
});
const B = Number(values.batch);
const ROUNDS = Number(values.rounds);

interface Case {
  name: string;
  model: GPT2;
  tokenizer: TextTokenizer;
  note: string;
  batches: number;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

async function measure(c: Case, docs: Awaited<ReturnType<typeof loadCorpus>>, dir: string) {
  const mc = c.model.config;
  const window = Math.min(Number(values.window), mc.nPositions - 1);
  const layers = [...Array(mc.nLayer).keys()];
  const config: ScanConfig = { layers, window, top: 20, random: 20, maxTokens: c.batches * B * window, seed: 0, heldOut: false, sample: 8 };
  const plan = planWindows(docs, c.tokenizer, config);
  const batches: { ids: Int32Array; T: number; n: number }[] = [];
  for (let p = 0; p < plan.order.length; p += B) {
    const idx = plan.order.slice(p, p + B);
    const windows = idx.map((i) => ({ index: i, len: plan.windows[i].len }));
    const ids = idx.map((i) => plan.tokens[plan.windows[i].doc].subarray(plan.windows[i].start, plan.windows[i].start + plan.windows[i].len));
    batches.push({ ...batchIds({ windows, ids, mustPull: [] }, mc.bosTokenId, mc.eosTokenId), n: idx.length });
  }
  const tokens = plan.tokensTotal;
  log(`${c.name}: ${batches.length} batches of ${B} × ${window} tokens (${tokens} tokens), layers 0-${mc.nLayer - 1}, ${mc.dMlp} neurons each`);
  const bare = (i: number) => bareForward(c.model, layers, batches[i].ids, batches[i].n, batches[i].T + 1);
  await bare(0); // warm-up (kernels, caches)
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Each batch runs twice in a row, bare and scanned, alternating which goes first, so that the machine's load
    // (other processes) weighs on both alike. Scan time per batch includes the checkpoint that follows it.
    const store = new SqliteStore(join(dir, `${c.name}-${r}.db`));
    const ref = { spec: c.name, dir: '', fingerprint: `${c.name}-bench`, nLayer: mc.nLayer, dModel: mc.dModel, dMlp: mc.dMlp };
    const gen = runScan({ model: c.model, tokenizer: c.tokenizer, modelRef: ref, corpus: { ref: { spec: 'brown-bench', fingerprint: 'brown-bench', documents: docs.length }, docs }, config, batch: B, store, fresh: true });
    for (let e = await gen.next(); !e.done && e.value.type !== 'start'; e = await gen.next()) void e;
    let checkpointMs = 0;
    let checkpoints = 0;
    /** Advance the scan to its next batch's progress event; returns the time taken. */
    const scanNext = async () => {
      const t = performance.now();
      for (;;) {
        const e = await gen.next();
        if (e.done || e.value.type === 'progress') break;
        if (e.value.type === 'checkpoint') (checkpointMs += e.value.ms), checkpoints++;
      }
      return performance.now() - t;
    };
    const bareMs: number[] = [];
    const scanMs: number[] = [];
    for (let i = 0; i < batches.length; i++) {
      let t = performance.now();
      if (i % 2 === 0) {
        await bare(i);
        bareMs.push(performance.now() - t);
        scanMs.push(await scanNext());
      } else {
        scanMs.push(await scanNext());
        t = performance.now();
        await bare(i);
        bareMs.push(performance.now() - t);
      }
    }
    const before = checkpointMs;
    const t = performance.now();
    for (let e = await gen.next(); !e.done; e = await gen.next()) if (e.value.type === 'checkpoint') (checkpointMs += e.value.ms), checkpoints++;
    const finalMs = performance.now() - t;
    store.close();
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const round = {
      bareMs: r1(sum(bareMs)),
      scanBatchesMs: r1(sum(scanMs)),
      finalWriteMs: r1(finalMs),
      checkpointMs: r1(checkpointMs),
      checkpoints,
      finalCheckpointMs: r1(checkpointMs - before),
      medianBatchRatio: Math.round(median(scanMs.map((x, i) => x / bareMs[i])) * 1000) / 1000,
    };
    rounds.push(round);
    log(`${c.name} round ${r + 1}: bare ${round.bareMs} ms · scan ${round.scanBatchesMs} + final write ${round.finalWriteMs} ms (checkpoints ${round.checkpointMs} ms in ${checkpoints}) · median per-batch ratio ${round.medianBatchRatio}`);
  }
  const bareMs = median(rounds.map((x) => x.bareMs));
  const scanMs = median(rounds.map((x) => x.scanBatchesMs + x.finalWriteMs));
  return {
    name: c.name,
    note: c.note,
    shape: { nLayer: mc.nLayer, dModel: mc.dModel, dMlp: mc.dMlp, nPositions: mc.nPositions },
    batch: B,
    window,
    batches: batches.length,
    tokens,
    bare: { ms: r1(bareMs), tokensPerSecond: Math.round(tokens / (bareMs / 1000)) },
    scan: { ms: r1(scanMs), tokensPerSecond: Math.round(tokens / (scanMs / 1000)) },
    /** Scan time (everything: batches, checkpoints, the final write) over the bare forward passes. */
    ratio: Math.round((scanMs / bareMs) * 1000) / 1000,
    /** Without the scan's final write (every neuron's results once, amortised over a real scan). */
    ratioWithoutFinalWrite: Math.round((median(rounds.map((x) => x.scanBatchesMs / x.bareMs))) * 1000) / 1000,
    /** Median over batches of (scanned batch time / bare batch time): the least sensitive to the machine's load. */
    medianBatchRatio: median(rounds.map((x) => x.medianBatchRatio)),
    rounds,
  };
}

const info = await initBackend(values.backend);
log(`backend ${info.name}`);
const dir = mkdtempSync(join(tmpdir(), 'textdream-bench-scan-'));
try {
  const brown = await loadCorpus('brown');
  const docs = brown.filter((_, i) => i % 10 === 0); // 50 documents across the genres, ~115k tokens
  const cases: Case[] = [];
  const defaultDir = defaultModelDir();
  const gpt2 = gpt2Tokenizer();
  if (existsSync(join(defaultDir, 'config.json'))) {
    const lm = await loadModel(defaultDir);
    cases.push({ name: 'default', model: lm.model, tokenizer: lm.tokenizer, note: `the embedded default model (${defaultDir})`, batches: Number(values.batches) });
  } else {
    const s = DEFAULT_TRAIN_LM.shape;
    const shape: ModelShape = { nLayer: s.nLayer, dModel: s.dModel, nHead: s.nHead, dMlp: s.dMlp, vocabSize: s.vocabSize, nPositions: s.context };
    cases.push({ name: 'default-shape', model: buildGPT2(shape, randomCheckpoint(shape, { seed: 1 })), tokenizer: gpt2, note: `${defaultDir} is not built yet: a random model of its shape (DEFAULT_TRAIN_LM.shape), which costs the same`, batches: Number(values.batches) });
  }
  if (!values['no-distil']) {
    cases.push({ name: 'distilgpt2-shape', model: buildGPT2(DISTILGPT2_SHAPE, randomCheckpoint(DISTILGPT2_SHAPE, { seed: 1 })), tokenizer: gpt2, note: 'random weights, distilgpt2 shape; a few batches only', batches: Number(values['distil-batches']) });
  }
  const results = [];
  for (const c of cases) {
    results.push(await measure(c, docs, dir));
    c.model.dispose();
  }
  emitJson({ bench: 'scan', backend: info.name, machine: machineInfo(), target: 'scan ≤ 1.2 × bare forward', results });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
