// bench/dream-speed: optimisation steps per second of `embed` and `fluent` (with their default settings) on a
// distilgpt2-shaped random model, for each requested backend, hard evaluations excluded (they run at the
// record cadence, not every step). Prints one JSON object on stdout; progress on stderr.
//   npx tsx bench/dream-speed.ts [--backends wasm,webgpu,cpu] [--methods embed,fluent] [--steps 3] [--warmup 1]
//        [--layers 6]
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend, type BackendInfo } from '../src-main/backend.js';
import { dreamConfig, type Method } from '../src-main/dream/config.js';
import { buildMethod, buildTarget } from '../src-main/dream/run.js';
import { gpt2Tokenizer } from '../src-main/train/lmCorpus.js';
import { buildGPT2, DISTILGPT2_SHAPE, randomCheckpoint } from './lib/randomModel.js';
import { emitJson, log, machineInfo } from './lib/timing.js';

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm,webgpu,cpu' },
    methods: { type: 'string', default: 'embed,fluent' },
    steps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    layers: { type: 'string', default: String(DISTILGPT2_SHAPE.nLayer) },
  },
});
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const shape = { ...DISTILGPT2_SHAPE, nLayer: Number(values.layers), nPositions: 64 };
const raw = randomCheckpoint(shape, { seed: 1 });
const tokenizer = gpt2Tokenizer();

interface Row {
  backend: string;
  device?: string;
  method: Method;
  sequences: number;
  seqLen: number;
  msPerStep: number[];
  stepsPerSecond: number;
  /** Single-sequence forward-pass equivalents per step, as the method counts them. */
  forwardEquivalentsPerStep: number;
}
const rows: Row[] = [];
const skipped: { backend: string; why: string }[] = [];

for (const name of list(values.backends!)) {
  let info: BackendInfo;
  try {
    info = await initBackend(name);
  } catch (e) {
    skipped.push({ backend: name, why: e instanceof Error ? e.message : String(e) });
    log(`skip ${name}: ${skipped.at(-1)!.why}`);
    continue;
  }
  const model = buildGPT2(shape, raw);
  for (const method of list(values.methods!) as Method[]) {
    const cfg = dreamConfig({ target: { kind: 'neuron', layer: Math.min(3, shape.nLayer - 1), neuron: 100 }, method, seed: 1 });
    const ctx = { model, tokenizer };
    const m = await buildMethod(ctx, buildTarget(model, cfg.target), cfg);
    const ms: number[] = [];
    let fe = 0;
    let before = 0;
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      const r = await m.step(i + 1);
      // The step's reads are awaited inside it; nothing is left queued on the device.
      if (i >= warmup) ms.push(performance.now() - t0);
      fe = r.forwardEquivalents - before;
      before = r.forwardEquivalents;
      log(`${info.name} ${method} step ${i + 1}: ${(performance.now() - t0).toFixed(0)} ms`);
    }
    m.dispose();
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    rows.push({
      backend: info.name,
      device: info.device,
      method,
      sequences: method === 'fluent' ? cfg.lambdas.length : cfg.batch,
      seqLen: cfg.seqLen,
      msPerStep: ms.map((x) => Math.round(x)),
      stepsPerSecond: 1000 / mean,
      forwardEquivalentsPerStep: fe,
    });
  }
  model.dispose();
  log(`tensors left on ${info.name}: ${tf.memory().numTensors}`);
}
emitJson({ bench: 'dream-speed', shape, steps, warmup, machine: machineInfo(), rows, skipped });
