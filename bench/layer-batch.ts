// Dreaming neurons of one layer together against one at a time, in one run: the same dream requests (the same
// neurons, method, steps and seed), first each alone, then in lockstep groups of `--group` (dream/together.ts: every
// step's candidates of the whole group measured in one batch), then again in the reverse order so drift in the
// machine's speed falls on both. Reports wall-clock per neuron and neurons per hour of the dreaming stage, the time
// spent measuring candidates, and how many neurons got the same best dream both ways (the native backend's sums can
// differ in the last bits with the batch's shape, and a discrete search can then take another branch). Progress on
// stderr, JSON on stdout.
//
//   npx tsx bench/layer-batch.ts [--model <dir>] [--backend tensorflow] [--layer 2] [--neurons 0-7] [--group 8]
//        [--methods seeded,fluent] [--steps 20]
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import { directEvaluator, type CandidateEvaluator, type LockstepEvaluator } from '../src-main/dream/candidateBatch.js';
import type { DreamRequest } from '../src-main/dream/config.js';
import type { DreamResult } from '../src-main/dream/records.js';
import { dreamToEnd, runDream } from '../src-main/dream/run.js';
import { shippedSeedSource } from '../src-main/dream/seedPool.js';
import { dreamTogether } from '../src-main/dream/together.js';
import { defaultModelDir, loadModel } from '../src-main/model/load.js';
import { loadShippedJudge } from '../src-main/readability/shipped.js';
import { emitJson, log, machineInfo } from './lib/timing.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    model: { type: 'string' },
    backend: { type: 'string', default: process.env.TEXTDREAM_BACKEND ?? 'auto' },
    layer: { type: 'string', default: '2' },
    neurons: { type: 'string', default: '0-7' },
    group: { type: 'string', default: '8' },
    methods: { type: 'string', default: 'seeded,fluent' },
    steps: { type: 'string', default: '20' },
  },
});
const [lo, hi] = values.neurons!.split('-').map(Number);
const neurons = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
const G = Number(values.group);
const layer = Number(values.layer);
const steps = Number(values.steps);

const backend = await initBackend(values.backend!);
const spec = values.model ?? defaultModelDir();
const lm = await loadModel(spec);
const { judge } = await loadShippedJudge(lm.tokenizer);
const ctx = { model: lm.model, tokenizer: lm.tokenizer, judge, seedSource: shippedSeedSource(lm.model, lm.tokenizer) };
const requests = (method: string): DreamRequest[] => neurons.map((neuron) => ({ target: { kind: 'neuron', layer, neuron }, method: method as DreamRequest['method'], steps, seed: 0 }));

interface Pass {
  wallMs: number;
  evalMs: number;
  candidates: number;
  results: DreamResult[];
}

async function alone(reqs: DreamRequest[]): Promise<Pass> {
  const direct = directEvaluator(lm.model, lm.tokenizer);
  const pass: Pass = { wallMs: 0, evalMs: 0, candidates: 0, results: [] };
  const timed: CandidateEvaluator = async (...args) => {
    const t0 = performance.now();
    const out = await direct(...args);
    pass.evalMs += performance.now() - t0;
    pass.candidates += args[1].length;
    return out;
  };
  const t0 = performance.now();
  for (const r of reqs) pass.results.push(await dreamToEnd(runDream({ ...ctx, candidateEvaluator: timed }, r)));
  pass.wallMs = performance.now() - t0;
  return pass;
}

async function together(reqs: DreamRequest[]): Promise<Pass> {
  const pass: Pass = { wallMs: 0, evalMs: 0, candidates: 0, results: [] };
  const t0 = performance.now();
  for (let g = 0; g < reqs.length; g += G) {
    let ev: LockstepEvaluator | undefined;
    pass.results.push(...(await dreamTogether(ctx, reqs.slice(g, g + G), { evaluator: (e) => (ev = e) })));
    pass.evalMs += ev!.stats.ms;
    pass.candidates += ev!.stats.candidates;
  }
  pass.wallMs = performance.now() - t0;
  return pass;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const out: Record<string, unknown> = {};
for (const method of values.methods!.split(',')) {
  const reqs = requests(method);
  // Warm-up (kernels, the seed pool read, the judge): one short dream of another neuron, untimed.
  await dreamToEnd(runDream(ctx, { ...reqs[0], target: { kind: 'neuron', layer, neuron: hi + 1 }, steps: 2 }));
  log(`${method}: ${neurons.length} neurons of layer ${layer}, ${steps} steps, alone then in groups of ${G}, twice`);
  const a1 = await alone(reqs);
  log(`  alone ${r1(a1.wallMs / 1000)} s`);
  const t1 = await together(reqs);
  log(`  together ${r1(t1.wallMs / 1000)} s`);
  const t2 = await together(reqs);
  log(`  together ${r1(t2.wallMs / 1000)} s`);
  const a2 = await alone(reqs);
  log(`  alone ${r1(a2.wallMs / 1000)} s`);
  const sum = (p: Pass[], k: 'wallMs' | 'evalMs') => p.reduce((s, x) => s + x[k], 0);
  const perNeuron = (p: Pass[]) => sum(p, 'wallMs') / (p.length * neurons.length);
  const sameBest = a1.results.filter((r, i) => r.best?.text === t1.results[i].best?.text).length;
  const same = (x: Pass, y: Pass) => x.results.every((r, i) => r.best?.text === y.results[i].best?.text && r.best?.value === y.results[i].best?.value);
  out[method] = {
    alone: { msPerNeuron: r1(perNeuron([a1, a2])), evalMsPerNeuron: r1(sum([a1, a2], 'evalMs') / (2 * neurons.length)), candidatesPerNeuron: a1.candidates / neurons.length, neuronsPerHour: r1(3.6e6 / perNeuron([a1, a2])), runs: [a1, a2].map((p) => r1(p.wallMs)) },
    together: { msPerNeuron: r1(perNeuron([t1, t2])), evalMsPerNeuron: r1(sum([t1, t2], 'evalMs') / (2 * neurons.length)), candidatesPerNeuron: t1.candidates / neurons.length, neuronsPerHour: r1(3.6e6 / perNeuron([t1, t2])), runs: [t1, t2].map((p) => r1(p.wallMs)) },
    speedup: Math.round((perNeuron([a1, a2]) / perNeuron([t1, t2])) * 100) / 100,
    evalSpeedup: Math.round((sum([a1, a2], 'evalMs') / sum([t1, t2], 'evalMs')) * 100) / 100,
    sameBestDream: `${sameBest}/${neurons.length}`,
    deterministic: { alone: same(a1, a2), together: same(t1, t2) },
  };
  log(`  ${JSON.stringify(out[method])}`);
}
emitJson({
  bench: 'layer-batch',
  command: `npx tsx bench/layer-batch.ts ${process.argv.slice(2).join(' ')}`.trim(),
  model: spec,
  backend,
  layer,
  neurons: values.neurons,
  group: G,
  steps,
  machine: machineInfo(),
  methods: out,
});
