// Forward + backward + Adam on the input embeddings of a distilgpt2-shaped model, batch 8 × 24 tokens, with the
// vocabulary projection in the step: the dreaming inner loop. Times our runtime (`textdream`) against a plain
// tfjs GPT-2 (`naive`) on the same random weights, per backend, and prints one JSON object on stdout.
//
//   npx tsx bench/forward-backward.ts [--backends tensorflow,wasm,cpu] [--steps 3] [--warmup 1]
//        [--vocab-chunks 2048,8192,50257] [--impls textdream,naive] [--profile] [--seed 1]
//
// See bench/README.md for how to read the output.
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import type { GPT2 } from '../src-main/model/gpt2.js';
import { DreamStepper, maxAbs, maxAbsDiff, naiveLoss, nextTokenTargets, textdreamLoss, type StepResult, type Targets } from './lib/dreamStep.js';
import { NaiveGPT2 } from './lib/naiveGpt2.js';
import { calibrateMatMul, type Calibration } from './lib/calibrate.js';
import { profileStep, type StepProfile } from './lib/profile.js';
import { runPytorch } from './lib/pytorch.js';
import { buildGPT2, configFor, DISTILGPT2_SHAPE, embedRows, parameterCount, randomCheckpoint, randomIds, type ModelShape } from './lib/randomModel.js';
import { emitJson, firstLine, log, machineInfo, summarize, timeMs, type Timing } from './lib/timing.js';

const B = 8;
const T = 24;
const SPEC = { layer: 3, neuron: 100, lambda: 0.1 };
const LR = 0.01;
const TARGETS = { wasmMsPerStep: 2500, nativeMsPerStep: 450 };
const ALL_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
type Backend = (typeof ALL_BACKENDS)[number];
type Impl = 'textdream' | 'naive';

interface Options {
  backends: Backend[];
  impls: Impl[];
  steps: number;
  warmup: number;
  /** Vocabulary chunk sizes for textdream; `undefined` means weights.ts's default. */
  chunks: (number | undefined)[];
  profile: boolean;
  seed: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      backends: { type: 'string', default: ALL_BACKENDS.join(',') },
      impls: { type: 'string', default: 'textdream,naive' },
      steps: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      'vocab-chunks': { type: 'string' },
      profile: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
    },
  });
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const int = (name: string, s: string, min: number) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${s}"`);
    return n;
  };
  const backends = list(values.backends!);
  for (const b of backends) if (!(ALL_BACKENDS as readonly string[]).includes(b)) throw new Error(`--backends: unknown "${b}"; use ${ALL_BACKENDS.join(', ')}`);
  const impls = list(values.impls!);
  for (const i of impls) if (i !== 'textdream' && i !== 'naive') throw new Error(`--impls: unknown "${i}"; use textdream, naive`);
  if (!impls.includes('textdream')) throw new Error('--impls must include textdream');
  const chunks = values['vocab-chunks'] ? list(values['vocab-chunks']).map((c) => int('vocab-chunks', c, 1)) : [undefined];
  return {
    backends: backends as Backend[],
    impls: impls as Impl[],
    steps: int('steps', values.steps!, 1),
    warmup: int('warmup', values.warmup!, 0),
    chunks,
    profile: values.profile!,
    seed: int('seed', values.seed!, 0),
  };
}

/** FLOPs of one step: forward, plus a backward that computes input gradients only (no weight gradients). */
function gflopPerStep(s: ModelShape): number {
  const N = B * T;
  const linear = s.nLayer * 2 * (4 * s.dModel * s.dModel + 2 * s.dModel * s.dMlp) + 2 * s.dModel * s.vocabSize;
  const attention = s.nLayer * 2 * 2 * T * s.dModel; // QKᵀ and P·V per token
  return (N * (2 * linear + 3 * attention)) / 1e9;
}

interface Result {
  backend: string;
  impl: Impl;
  vocabChunk?: number;
  msPerStep: Timing;
  /** The first step, untimed unless --warmup 0: kernel set-up, optimizer slots, first allocations. */
  firstStepMs: number;
  gflopPerS: number;
  /** gflopPerS over the calibration matMul's median rate on this backend in this run. */
  efficiency?: number;
  finalLoss: number;
  /** tf.memory().numTensors growth per timed step (should be 0). */
  tensorLeakPerStep: number;
  profile?: StepProfile;
}

interface Sanity {
  impl: string;
  lossTextdream: number;
  lossNaive: number;
  lossRelDiff: number;
  gradMaxAbsDiff: number;
  gradMaxAbs: number;
  /** gradMaxAbsDiff / gradMaxAbs. */
  gradRelDiff: number;
  pass: boolean;
}

function compare(impl: string, ours: StepResult, ref: StepResult): Sanity {
  const lossRelDiff = Math.abs(ours.loss - ref.loss) / Math.max(Math.abs(ref.loss), 1e-12);
  const gradMaxAbsDiff = maxAbsDiff(ours.grad!, ref.grad!);
  const gradMaxAbs = maxAbs(ref.grad!);
  const gradRelDiff = gradMaxAbsDiff / Math.max(gradMaxAbs, 1e-30);
  const pass = lossRelDiff < 1e-3 && gradRelDiff < 1e-3;
  return { impl, lossTextdream: ours.loss, lossNaive: ref.loss, lossRelDiff, gradMaxAbsDiff, gradMaxAbs, gradRelDiff, pass };
}

/** The remaining warm-up steps and the timed steps of a stepper whose first step already ran. */
async function finishTiming(
  backend: string,
  impl: Impl,
  stepper: DreamStepper,
  first: { ms: number; loss: number },
  o: { warmup: number; steps: number; profile: boolean },
  gflop: number,
  vocabChunk?: number,
): Promise<Result> {
  const runs: number[] = [];
  if (o.warmup === 0) runs.push(first.ms);
  for (let i = 1; i < o.warmup; i++) stepper.step();
  const before = tf.memory().numTensors;
  let loss = first.loss;
  while (runs.length < o.steps) {
    const { ms, value } = timeMs(() => stepper.step());
    runs.push(ms);
    loss = value.loss;
    log(`${backend} ${impl}${vocabChunk ? ` chunk ${vocabChunk}` : ''}: step ${runs.length}/${o.steps} ${ms.toFixed(0)} ms, loss ${loss.toFixed(5)}`);
  }
  const timedAfterFirst = o.warmup === 0 ? runs.length - 1 : runs.length;
  const leak = timedAfterFirst > 0 ? (tf.memory().numTensors - before) / timedAfterFirst : 0;
  const msPerStep = summarize(runs);
  const result: Result = {
    backend,
    impl,
    ...(vocabChunk ? { vocabChunk } : {}),
    msPerStep,
    firstStepMs: Math.round(first.ms),
    gflopPerS: Math.round((gflop / (msPerStep.median / 1000)) * 10) / 10,
    finalLoss: loss,
    tensorLeakPerStep: leak,
  };
  if (o.profile) {
    log(`${backend} ${impl}: profiling one step`);
    result.profile = await profileStep(() => stepper.step());
  }
  return result;
}

function firstStep(stepper: DreamStepper): StepResult & { ms: number } {
  const { ms, value } = timeMs(() => stepper.step(true));
  return { ms, ...value };
}

async function benchBackend(
  backend: Backend,
  o: Options,
  raw: ReturnType<typeof randomCheckpoint>,
  ids: Int32Array,
  gflop: number,
): Promise<{ results: Result[]; sanity: Sanity[]; calibration: { before: Calibration; after: Calibration } }> {
  const results: Result[] = [];
  const sanity: Sanity[] = [];
  const before = calibrateMatMul();
  log(`${backend}: calibration matMul ${before.shape}: ${before.gflopPerS.median} GFLOP/s (best ${before.gflopPerS.best})`);
  // The cpu backend takes ~50 s a step: one step per implementation, which is also the correctness check.
  const t = backend === 'cpu' ? { ...o, steps: 1, warmup: 0 } : o;
  const config = configFor(DISTILGPT2_SHAPE);
  const tg: Targets = nextTokenTargets(ids, B, T);
  const init = embedRows(raw, ids, B, T);
  const chunkOf = (m: GPT2) => m.weights.unembed.ETChunks?.[0]?.shape[1];
  let naiveFirst: StepResult | null = null;
  try {
    // Both implementations start from the same embeddings; their first steps are compared before any timing.
    log(`${backend}: building textdream${o.impls.includes('naive') ? ' and naive' : ''} models`);
    let ours: GPT2 | null = buildGPT2(DISTILGPT2_SHAPE, raw, { vocabChunk: o.chunks[0] });
    const naive = o.impls.includes('naive') ? new NaiveGPT2(config, raw) : null;
    const sOurs = new DreamStepper(textdreamLoss(ours, tg, SPEC), init, LR);
    const sNaive = naive ? new DreamStepper(naiveLoss(naive, tg, SPEC), init, LR) : null;
    const fOurs = firstStep(sOurs);
    log(`${backend} textdream: first step ${fOurs.ms.toFixed(0)} ms, loss ${fOurs.loss.toFixed(5)}`);
    let fNaive: (StepResult & { ms: number }) | null = null;
    if (sNaive) {
      fNaive = firstStep(sNaive);
      naiveFirst = fNaive;
      log(`${backend} naive: first step ${fNaive.ms.toFixed(0)} ms, loss ${fNaive.loss.toFixed(5)}`);
      const s = compare(`textdream${o.chunks[0] ? ` chunk ${o.chunks[0]}` : ''}`, fOurs, fNaive);
      sanity.push(s);
      log(`${backend} check: loss rel diff ${s.lossRelDiff.toExponential(2)}, grad rel diff ${s.gradRelDiff.toExponential(2)} → ${s.pass ? 'ok' : 'MISMATCH'}`);
    }
    const chunk0 = chunkOf(ours);
    results.push(await finishTiming(backend, 'textdream', sOurs, fOurs, t, gflop, chunk0));
    sOurs.dispose();
    ours.dispose();
    ours = null;
    if (sNaive && fNaive) {
      results.push(await finishTiming(backend, 'naive', sNaive, fNaive, t, gflop));
      sNaive.dispose();
    }
    naive?.dispose();
    // Further vocabulary chunk sizes, one model at a time.
    for (const c of o.chunks.slice(1)) {
      const m = buildGPT2(DISTILGPT2_SHAPE, raw, { vocabChunk: c });
      const s = new DreamStepper(textdreamLoss(m, tg, SPEC), init, LR);
      const f = firstStep(s);
      if (naiveFirst) sanity.push(compare(`textdream chunk ${c}`, f, naiveFirst));
      results.push(await finishTiming(backend, 'textdream', s, f, t, gflop, chunkOf(m)));
      s.dispose();
      m.dispose();
    }
  } finally {
    tf.dispose([tg.targets, tg.weights, init]);
  }
  const after = calibrateMatMul();
  const rate = (before.gflopPerS.median + after.gflopPerS.median) / 2;
  for (const r of results) r.efficiency = Math.round((r.gflopPerS / rate) * 100) / 100;
  return { results, sanity, calibration: { before, after } };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const machineStart = machineInfo();
  const shape = DISTILGPT2_SHAPE;
  const gflop = gflopPerStep(shape);
  log(`generating a random ${shape.nLayer}-layer, ${shape.dModel}-wide GPT-2 (seed ${o.seed})`);
  const { ms: genMs, value: raw } = timeMs(() => randomCheckpoint(shape, { seed: o.seed, std: 0.02 }));
  const ids = randomIds(B, T, shape.vocabSize, o.seed + 1);
  const results: Result[] = [];
  const unavailable: { backend: string; reason: string; detail?: string }[] = [];
  const sanity: Record<string, Sanity[]> = {};
  const calibration: Record<string, { before: Calibration; after: Calibration }> = {};
  for (const backend of o.backends) {
    let name: string;
    try {
      name = (await initBackend(backend, '--backends')).name;
    } catch (e) {
      const detail = firstLine(e);
      const reason = /Cannot find package '@tensorflow\/tfjs-node/.test(detail) ? 'tfjs-node not installed' : detail;
      unavailable.push({ backend, reason, ...(reason !== detail ? { detail } : {}) });
      log(`${backend}: unavailable (${reason})`);
      continue;
    }
    if (name !== backend) {
      unavailable.push({ backend, reason: `asked for ${backend}, tfjs runs ${name}` });
      continue;
    }
    const r = await benchBackend(backend, o, raw, ids, gflop);
    results.push(...r.results);
    calibration[backend] = r.calibration;
    if (r.sanity.length) sanity[backend] = r.sanity;
  }

  const find = (backend: string, impl: Impl) => results.find((r) => r.backend === backend && r.impl === impl);
  const ratios: Record<string, number> = {};
  for (const b of o.backends) {
    const ours = find(b, 'textdream');
    const naive = find(b, 'naive');
    if (ours && naive) ratios[b] = Math.round((naive.msPerStep.median / ours.msPerStep.median) * 100) / 100;
  }
  const wasm = find('wasm', 'textdream');
  const native = find('tensorflow', 'textdream');
  const checks = Object.values(sanity).flat();
  const pass = {
    wasm: wasm ? wasm.msPerStep.median <= TARGETS.wasmMsPerStep : null,
    tensorflow: native ? native.msPerStep.median <= TARGETS.nativeMsPerStep : null,
    sanity: checks.length ? checks.every((c) => c.pass) : null,
  };

  log('pytorch column');
  const pytorch = runPytorch({ shape, batch: [B, T], ...SPEC, lr: LR, steps: o.steps, warmup: o.warmup, seed: o.seed });

  const { loadavg: loadStart, ...machine } = machineStart;
  emitJson({
    bench: 'forward-backward',
    date: new Date().toISOString(),
    model: {
      layers: shape.nLayer,
      dModel: shape.dModel,
      heads: shape.nHead,
      dMlp: shape.dMlp,
      vocab: shape.vocabSize,
      context: shape.nPositions,
      params: parameterCount(raw),
      init: `N(0, 0.02), layer-norm gains N(1, 0.02), seed ${o.seed} (generated in ${Math.round(genMs)} ms)`,
    },
    batch: [B, T],
    step: {
      loss: `-mean(blocks.${SPEC.layer}.mlp.hook_post[:, :, ${SPEC.neuron}]) + ${SPEC.lambda} * mean next-token cross-entropy (full vocabulary projection)`,
      optimizer: `adam lr ${LR} on the input embeddings [${B}, ${T}, ${shape.dModel}]; weights frozen`,
      gflop: Math.round(gflop * 10) / 10,
      steps: o.steps,
      warmup: o.warmup,
      cpuBackend: 'steps 1, warmup 0 (the timed step is the first step)',
    },
    ...machine,
    loadavg: { start: loadStart, end: machineInfo().loadavg },
    backends: { requested: o.backends, unavailable },
    calibration,
    results,
    sanity,
    ratios,
    targets: TARGETS,
    pass,
    pytorch,
  });
}

main().catch((e) => {
  process.stderr.write(`forward-backward bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
