// Sweep throughput: neurons per hour of `textdream sweep` on a model, in-process and on the BullMQ queue with 1 and
// 2 `textdream worker` processes, in one run on one machine, each against the same store and scan (made first and
// not timed), each with its own dream seed so every run does fresh jobs. The in-process sweep is the reference the
// queue's figures are read against (the queue adds Redis round trips and one process per worker). Needs Debian's
// redis-server. Progress on stderr, one JSON object on stdout.
//
//   npx tsx bench/sweep.ts [--model <dir>] [--layer 2] [--neurons 12] [--workers 1,2] [--methods fluent]
//        [--steps 20] [--max-tokens 20000] [--backend tensorflow]
//
// Each worker process pins nothing itself: run the bench under `taskset` to give it the cores you mean to measure.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { main } from '../src-main/cli/main.js';
import { defaultModelDir } from '../src-main/model/load.js';
import { SqliteStore } from '../src-main/store/sqlite.js';
import { startRedisServer } from '../src-main/sweep/redisServer.js';
import { emitJson, log, machineInfo } from './lib/timing.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    model: { type: 'string' },
    layer: { type: 'string', default: '2' },
    neurons: { type: 'string', default: '12' },
    workers: { type: 'string', default: '1,2' },
    methods: { type: 'string', default: 'fluent' },
    steps: { type: 'string', default: '20' },
    'max-tokens': { type: 'string', default: '20000' },
    backend: { type: 'string', default: process.env.TEXTDREAM_BACKEND ?? 'wasm' },
  },
});
const BIN = fileURLToPath(new URL('../bin/textdream.js', import.meta.url));
const model = values.model ?? defaultModelDir();
const N = Number(values.neurons);
const workerCounts = values.workers!.split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'textdream-bench-sweep-'));
const db = join(dir, 'bench.db');
const common = ['--model', model, '--backend', values.backend!, '--db', db, '--layers', values.layer!, '--neurons', `0-${N - 1}`, '--methods', values.methods!, '--steps', values.steps!, '--max-tokens', values['max-tokens']!];

async function cli(args: string[]): Promise<void> {
  let err = '';
  const code = await main(args, { stdout: () => undefined, stderr: (s) => void (err += s), env: { ...process.env, TEXTDREAM_DB: db } });
  if (code !== 0) throw new Error(`textdream ${args[0]} exited ${code}: ${err.slice(-2000)}`);
}

// One read connection for the polls (opened once the sweeps have made the store; closed at the end).
let reader: SqliteStore | undefined;
const pages = () => {
  reader ??= new SqliteStore(db);
  return (reader.db.prepare('SELECT count(*) AS n FROM sweep_pages').get() as { n: number }).n;
};

const t00 = Date.now();
log(`bench sweep: ${N} neurons of layer ${values.layer} of ${model}, ${values.methods} ${values.steps} steps, backend ${values.backend}`);
// The scan, once, untimed: every later run finds it (the same scan settings), as a real sweep's second day would.
let t = performance.now();
await cli(['sweep', ...common, '--neurons', '0', '--seed', '999']);
const scanAndFirstMs = performance.now() - t;
log(`scan + one neuron: ${(scanAndFirstMs / 1000).toFixed(1)} s`);

const runs: { mode: string; workers: number; seconds: number; neuronsPerHour: number }[] = [];
t = performance.now();
await cli(['sweep', ...common, '--seed', '1']);
const inProcess = (performance.now() - t) / 1000;
runs.push({ mode: 'in-process', workers: 1, seconds: inProcess, neuronsPerHour: (N / inProcess) * 3600 });
log(`in-process: ${N} neurons in ${inProcess.toFixed(1)} s`);

const redis = await startRedisServer({ dir: join(dir, 'redis') });
try {
  for (const [i, w] of workerCounts.entries()) {
    const seed = String(10 + i);
    const before = pages();
    await cli(['sweep', ...common, '--seed', seed, '--redis', redis.url, '--enqueue-only']);
    // Timed from the workers' start (process start-up and model load included: a worker pays them once per sweep).
    t = performance.now();
    const children: ChildProcess[] = Array.from({ length: w }, () =>
      spawn(process.execPath, [BIN, 'worker', '--redis', redis.url, '--db', db, '--model', model, '--backend', values.backend!], { stdio: 'ignore', env: { ...process.env, TEXTDREAM_DB: db } }),
    );
    while (pages() < before + N) await new Promise((r) => setTimeout(r, 200));
    const seconds = (performance.now() - t) / 1000;
    for (const c of children) c.kill('SIGINT');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    runs.push({ mode: 'queue', workers: w, seconds, neuronsPerHour: (N / seconds) * 3600 });
    log(`queue, ${w} worker(s): ${N} neurons in ${seconds.toFixed(1)} s`);
  }
} finally {
  reader?.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

emitJson({
  bench: 'sweep',
  command: `npx tsx bench/sweep.ts ${process.argv.slice(2).join(' ')}`.trim(),
  model,
  layer: Number(values.layer),
  neurons: N,
  methods: values.methods,
  steps: Number(values.steps),
  scanMaxTokens: Number(values['max-tokens']),
  backend: values.backend,
  machine: machineInfo(),
  scanAndFirstNeuronSeconds: scanAndFirstMs / 1000,
  runs,
  ratioToInProcess: Object.fromEntries(runs.filter((r) => r.mode === 'queue').map((r) => [`${r.workers}`, r.neuronsPerHour / runs[0].neuronsPerHour])),
  totalSeconds: (Date.now() - t00) / 1000,
});
