// Candidate evaluation with shared prefixes against full re-evaluation of the same candidates, in one run: the
// candidates a fluent/seeded step makes (each member's text with one token swapped at a random position, members
// of `--seq-len` tokens from held-out text), measured both ways, alternating, `--reps` times each. Reports the
// positions run (the FLOPs proxy: every position costs the same at these lengths, attention being a sliver), the
// median wall-clock, and the largest difference between the two results. Progress on stderr, JSON on stdout.
//
//   npx tsx bench/shared-prefix.ts [--model <dir>] [--backend tensorflow] [--seq-len 10] [--members 4]
//        [--candidates 12] [--reps 20] [--layer 2] [--neuron 100] [--seed 1] [--pytorch python3]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import { loadCorpus } from '../src-main/corpus/documents.js';
import { measureIds } from '../src-main/dream/hard.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import { DEFAULT_MAX_RUNS, measureIdsShared } from '../src-main/dream/sharedPrefix.js';
import { defaultModelDir, loadModel } from '../src-main/model/load.js';
import { emitJson, log, machineInfo, median } from './lib/timing.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    model: { type: 'string' },
    backend: { type: 'string', default: process.env.TEXTDREAM_BACKEND ?? 'auto' },
    'seq-len': { type: 'string', default: '10' },
    members: { type: 'string', default: '4' },
    candidates: { type: 'string', default: '12' },
    reps: { type: 'string', default: '20' },
    layer: { type: 'string', default: '2' },
    neuron: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    'max-runs': { type: 'string', default: '1,2,3,4,6,11' },
    // A Python with torch: the same candidates evaluated in PyTorch (bench/shared-prefix-torch.py), full and shared.
    pytorch: { type: 'string' },
  },
});
const T = Number(values['seq-len']);
const M = Number(values.members);
const C = Number(values.candidates);
const reps = Number(values.reps);
let state = Number(values.seed) >>> 0 || 1;
const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);

const backend = await initBackend(values.backend!);
const spec = values.model ?? defaultModelDir();
const lm = await loadModel(spec);
const tok = lm.tokenizer;
const target = neuronTarget(Number(values.layer), Number(values.neuron));

// Members: windows of T tokens from the corpus's documents, spread by the seed.
const docs = (await loadCorpus('brown+sotu')).filter((d) => d.text.length > 2000);
const members: number[][] = Array.from({ length: M }, () => {
  const ids = tok.encode(docs[Math.floor(rand() * docs.length)].text.slice(0, 4000));
  const at = Math.floor(rand() * (ids.length - T));
  return tok.encode(tok.decode(ids.slice(at, at + T)));
});
const batches = Array.from({ length: reps }, () => {
  const seqs: number[][] = [];
  const owner: number[] = [];
  members.forEach((m, o) =>
    Array.from({ length: C }, () => {
      const next = m.slice();
      next[Math.floor(rand() * next.length)] = Math.floor(rand() * 50000) + 200;
      // As the search does: the candidate's text re-tokenised.
      seqs.push(tok.encode(tok.decode(next)));
      owner.push(o);
    }),
  );
  return { seqs, owner };
});

// Each --max-runs value with the members' losses given, as a search has them from its second step on (the members'
// unembedding skipped), and the default also without them (a search's first step).
const variants = [
  ...values['max-runs']!.split(',').map((v) => ({ maxRuns: Number(v), reuseLosses: true })),
  { maxRuns: DEFAULT_MAX_RUNS, reuseLosses: false },
];
log(`shared-prefix bench: ${M} members × ${C} candidates of ${T} tokens, ${reps} reps, max runs ${variants.map((v) => `${v.maxRuns}${v.reuseLosses ? '' : ' (members\' losses recomputed)'}`).join('/')}, ${spec} on ${backend.name}`);
// The members' per-token losses, measured once (a search keeps them from the step that measured the members).
const memberLosses = (await measureIdsShared(lm.model, tok, target, members, 'max', members, members.map((_, i) => i))).baseLosses;
const lossesFor = (v: { reuseLosses: boolean }) => (v.reuseLosses ? memberLosses : undefined);
// Warm-up of both paths (kernels, caches).
await measureIds(lm.model, tok, target, batches[0].seqs, 'max');
for (const v of variants) await measureIdsShared(lm.model, tok, target, batches[0].seqs, 'max', members, batches[0].owner, v.maxRuns, lossesFor(v));
const fullMs: number[] = [];
const shared = variants.map((v) => ({ ...v, ms: [] as number[], fullPositions: 0, sharedPositions: 0, unembeddedRows: 0, runs: 0, maxDiff: 0 }));
// Alternating, batch by batch, so drift in the machine's load falls on every variant alike.
for (const b of batches) {
  let t = performance.now();
  const full = await measureIds(lm.model, tok, target, b.seqs, 'max');
  fullMs.push(performance.now() - t);
  for (const v of shared) {
    t = performance.now();
    const r = await measureIdsShared(lm.model, tok, target, b.seqs, 'max', members, b.owner, v.maxRuns, lossesFor(v));
    v.ms.push(performance.now() - t);
    v.fullPositions += r.cost.fullPositions;
    v.sharedPositions += r.cost.sharedPositions;
    v.unembeddedRows += r.cost.unembeddedRows;
    v.runs += r.cost.runs;
    r.evals.forEach((e, i) => {
      v.maxDiff = Math.max(v.maxDiff, Math.abs(e.ce - full[i].ce), ...e.perToken.map((x, j) => Math.abs(x - full[i].perToken[j])));
    });
  }
}
const fullMedian = median(fullMs);

// The PyTorch column: the same members, candidates and target, on one thread as here.
let pytorch: Record<string, unknown> | null = null;
if (values.pytorch) {
  const dir = mkdtempSync(join(tmpdir(), 'textdream-shared-prefix-'));
  try {
    const file = join(dir, 'batches.json');
    writeFileSync(file, JSON.stringify({ layer: Number(values.layer), neuron: Number(values.neuron), members, batches, maxRuns: variants.filter((v) => v.reuseLosses).map((v) => v.maxRuns) }));
    const script = join(dirname(fileURLToPath(import.meta.url)), 'shared-prefix-torch.py');
    log(`PyTorch column: ${values.pytorch} ${script}`);
    const r = spawnSync(values.pytorch, [script, lm.source.dir, file, '--threads', '1'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`--pytorch: ${values.pytorch} ${script} exited ${r.status}: ${r.stderr.slice(-2000)}`);
    const py = JSON.parse(r.stdout) as { firstBatch: { max: number; ce: number }[] } & Record<string, unknown>;
    // Two implementations of the same model: the first batch's results, here against there.
    const ours = await measureIds(lm.model, tok, target, batches[0].seqs, 'max');
    const maxAbsDifferenceFromOurs = Math.max(...py.firstBatch.flatMap((x, i) => [Math.abs(x.max - ours[i].max), Math.abs(x.ce - ours[i].ce)]));
    const { firstBatch: _first, ...rest } = py;
    pytorch = { ...rest, maxAbsDifferenceFromOurs, oursFullOverPytorchFull: fullMedian / (py.fullMedianMs as number) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
// FLOPs, counted as multiply-adds × 2 of the weights' matmuls: per position run, the blocks' 12·d² weights per
// layer (attention's QKV and output, the MLP's 4d up and down), attention's scores and mixing over at most
// seqLen + 1 keys; per unembedded row, h·Eᵀ over the vocabulary. Layer norms, GELU and the softmax's exp are left out.
const { dModel: d, nLayer, vocabSize } = lm.model.config;
const flopsPerPosition = nLayer * (2 * 12 * d * d + 2 * 2 * (T + 1) * d);
const flopsPerRow = 2 * vocabSize * d;
const result = {
  bench: 'shared-prefix',
  command: `npx tsx bench/shared-prefix.ts ${process.argv.slice(2).join(' ')}`.trim(),
  model: spec,
  backend: backend.name,
  machine: machineInfo(),
  seqLen: T,
  members: M,
  candidatesPerMember: C,
  reps,
  fullMedianMs: fullMedian,
  variants: shared.map((v) => ({
    maxRuns: v.maxRuns,
    membersLossesReused: v.reuseLosses,
    forwardRunsPerBatch: v.runs / reps,
    positions: { full: v.fullPositions / reps, shared: v.sharedPositions / reps, fewerBy: v.fullPositions / v.sharedPositions },
    // Full evaluation unembeds every position it runs (measureIds: one fused loss per position).
    unembeddedRows: { full: v.fullPositions / reps, shared: v.unembeddedRows / reps, fewerBy: v.fullPositions / v.unembeddedRows },
    flops: (() => {
      const full = (v.fullPositions / reps) * (flopsPerPosition + flopsPerRow);
      const sharedFlops = (v.sharedPositions / reps) * flopsPerPosition + (v.unembeddedRows / reps) * flopsPerRow;
      return { full, shared: sharedFlops, fewerBy: full / sharedFlops };
    })(),
    medianMs: median(v.ms),
    wallClockFasterBy: fullMedian / median(v.ms),
    maxAbsDifference: v.maxDiff,
  })),
  pytorch,
};
for (const v of result.variants) log(`max runs ${v.maxRuns}${v.membersLossesReused ? '' : ' (members\' losses recomputed)'}: ${v.forwardRunsPerBatch.toFixed(1)} runs, positions ${v.positions.fewerBy.toFixed(2)}× fewer, unembedded rows ${v.unembeddedRows.fewerBy.toFixed(2)}× fewer, FLOPs ${v.flops.fewerBy.toFixed(2)}× fewer, wall-clock ${v.wallClockFasterBy.toFixed(2)}× (${v.medianMs.toFixed(1)} vs ${fullMedian.toFixed(1)} ms), max difference ${v.maxAbsDifference.toExponential(2)}`);
emitJson(result);
lm.model.dispose();
