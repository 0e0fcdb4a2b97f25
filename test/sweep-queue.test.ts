// `textdream sweep` on a real job queue: a real `redis-server` on a loopback port (started by the product's own
// startRedisServer), the jobs of 16 fixture neurons enqueued by `sweep --redis <url> --enqueue-only`, two
// `textdream worker` processes, one of them SIGKILLed in the middle of a job, Redis stopped and started again while
// the other works on, and then: exactly one page per neuron, each byte-identical to an in-process sweep's with the
// same settings, nothing half written, the killed job delivered again and done. Needs Debian's redis-server:
// without it the test is skipped, unless TEXTDREAM_REQUIRE_REDIS=1 (.ci/run sets it, after installing it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisConnection, queueJobId, SWEEP_QUEUE } from '../src-main/sweep/queue.js';
import { startRedisServer, type RedisServer } from '../src-main/sweep/redisServer.js';
import { BIN, cleanEnv, runCli } from './helpers/cli.js';
import { fakeInterpreter, startOpenAIServer } from './helpers/openaiServer.js';
import { FIXTURE } from './helpers/shared.js';
import { withStoreFile } from './helpers/storeFile.js';
import { SWEEP_TEXTS, writeSweepCorpus } from './helpers/sweepCorpus.js';
import { Queue } from 'bullmq';

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!haveRedis && process.env.TEXTDREAM_REQUIRE_REDIS === '1') throw new Error('TEXTDREAM_REQUIRE_REDIS=1 but redis-server is not installed (apt-get install redis-server)');

const dir = mkdtempSync(join(tmpdir(), 'textdream-queue-'));
const CORPUS = join(dir, 'corpus.jsonl');
/** 16 neurons; dreams long enough (40 steps) that a worker is killed inside a job, not between two. */
const SETTINGS = ['--model', FIXTURE, '--backend', 'wasm', '--corpus', CORPUS, '--window', '16', '--methods', 'embed', '--steps', '40', '--seq-len', '4', '--seed', '5', '--layers', '1', '--neurons', '0-15'];
const N = 16;

interface Worker {
  child: ChildProcess;
  stderr: string;
  exited: Promise<number | null>;
}

function startWorker(url: string, db: string): Worker {
  const child = spawn(process.execPath, [BIN, 'worker', '--redis', url, '--db', db, '--model', FIXTURE, '--backend', 'wasm', '--lock-duration', '2000', '--stalled-interval', '1000', '--max-stalled', '2'], {
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const w: Worker = { child, stderr: '', exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (w.stderr += d));
  return w;
}

async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number): Promise<NonNullable<T>> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pages = (db: string) => withStoreFile(db, (s) => s.db.prepare('SELECT layer, neuron, page FROM sweep_pages ORDER BY neuron').all() as { layer: number; neuron: number; page: string }[]);
const count = (db: string, table: string) => withStoreFile(db, (s) => (s.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);

let redis: RedisServer | undefined;
const workers: Worker[] = [];

beforeAll(() => {
  writeSweepCorpus(CORPUS, SWEEP_TEXTS.slice(0, 6), 2);
});
afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveRedis)('sweep on a Redis queue', () => {
  it('two workers, one SIGKILLed mid-job, Redis restarted: one complete page per neuron, equal to an in-process sweep', async () => {
    const ref = join(dir, 'in-process.db');
    const inProcess = await runCli(['sweep', ...SETTINGS, '--db', ref]);
    expect(inProcess.code, inProcess.stderr).toBe(0);
    expect(pages(ref)).toHaveLength(N);

    redis = await startRedisServer({ dir: join(dir, 'redis') });
    const url = redis.url;
    const db = join(dir, 'queued.db');
    // The coordinator makes the scan and enqueues the 16 jobs, then exits; the workers do the rest.
    const enq = await runCli(['sweep', ...SETTINGS, '--db', db, '--redis', url, '--enqueue-only']);
    expect(enq.code, enq.stderr).toBe(0);
    expect(enq.stderr).toMatch(/queue: 16 job\(s\) added, 0 already queued, 0 done before/);
    // Enqueueing again adds nothing: the ids are the jobs' keys.
    const again = await runCli(['sweep', ...SETTINGS, '--db', db, '--redis', url, '--enqueue-only']);
    expect(again.stderr).toMatch(/queue: 0 job\(s\) added, 16 already queued, 0 done before/);

    const a = startWorker(url, db);
    const b = startWorker(url, db);
    workers.push(a, b);
    // Kill A inside its first job: after it has claimed the neuron in the store and started dreaming.
    const started = await until('worker A to start a job', () => /(L1N\d+) started/.exec(a.stderr)?.[1], 60_000);
    a.child.kill('SIGKILL');
    await a.exited;
    const killedNeuron = Number(started.slice(3));
    // Killed before its page: the claim is left behind (opening the store marks a dead process's claim
    // 'interrupted'), and nothing of the job is written.
    expect(withStoreFile(db, (s) => s.db.prepare('SELECT status FROM sweep_jobs WHERE neuron = ?').get(killedNeuron) as { status: string }).status).toMatch(/^(running|interrupted)$/);
    expect(withStoreFile(db, (s) => s.db.prepare('SELECT count(*) AS n FROM sweep_pages WHERE neuron = ?').get(killedNeuron) as { n: number }).n).toBe(0);

    // Redis goes away and comes back (same port, same append-only file) while B works on.
    await until('a page written after the kill', () => count(db, 'sweep_pages') >= 2, 60_000);
    await redis.restart();

    await until(`all ${N} pages`, () => count(db, 'sweep_pages') === N, 120_000);
    // The killed job was delivered again (B found it stalled) and finished by B.
    expect(b.stderr).toMatch(new RegExp(`L1N${killedNeuron} started \\(delivery \\d+\\)`));
    b.child.kill('SIGINT');
    expect(await b.exited).toBe(0);

    // Exactly one page per neuron, byte-identical to the in-process sweep's; no half-written job (one dream run
    // and one explanation per page), every job done.
    const q = pages(db);
    expect(q.map((p) => p.neuron)).toEqual([...Array(N).keys()]);
    expect(q.map((p) => p.page)).toEqual(pages(ref).map((p) => p.page));
    expect(count(db, 'dream_runs')).toBe(N);
    expect(count(db, 'explanations')).toBe(count(ref, 'explanations'));
    const states = withStoreFile(db, (s) => s.db.prepare('SELECT neuron, status, attempts FROM sweep_jobs ORDER BY neuron').all() as { neuron: number; status: string; attempts: number }[]);
    expect(states.every((s) => s.status === 'done')).toBe(true);
    expect(states.find((s) => s.neuron === killedNeuron)!.attempts).toBeGreaterThanOrEqual(2);

    // The queue agrees: every job completed, none failed.
    const queue = new Queue(SWEEP_QUEUE, { connection: redisConnection(url) });
    try {
      const c = await queue.getJobCounts('completed', 'failed', 'waiting', 'active');
      expect(c).toMatchObject({ completed: N, failed: 0, waiting: 0, active: 0 });
      const fingerprint = withStoreFile(db, (s) => (s.db.prepare('SELECT model, settings_hash FROM sweep_pages LIMIT 1').get() as { model: string; settings_hash: string }));
      const killed = await queue.getJob(queueJobId({ model: fingerprint.model, settingsHash: fingerprint.settings_hash, layer: 1, neuron: killedNeuron }));
      expect(killed?.returnvalue?.outcome).toBe('written');
    } finally {
      await queue.close();
    }

    // A coordinator that follows the finished sweep enqueues nothing and reports it complete.
    const follow = await runCli(['sweep', ...SETTINGS, '--db', db, '--redis', url, '--no-work', '--json']);
    expect(follow.code, follow.stderr).toBe(0);
    expect(JSON.parse(follow.stdout).status).toMatchObject({ total: N, done: N, failed: 0, pending: 0 });
  }, 300_000);

  it('a refused LLM key stops the queued sweep and a worker (exit 2) and leaves every job waiting, no attempt counted', async () => {
    const KEY = 'sk-queue-secret-9f8e7d6c5b4a39281706';
    const server = await startOpenAIServer(fakeInterpreter);
    const own = await startRedisServer({ dir: join(dir, 'redis-llm') });
    try {
      const env = { TEXTDREAM_LLM_BASE_URL: server.url, TEXTDREAM_LLM_MODEL: 'fake-model', OPENAI_API_KEY: KEY };
      const db = join(dir, 'llm.db');
      const settings = [...SETTINGS.map((a) => (a === '0-15' ? '0-1' : a === '40' ? '2' : a)), '--llm', '--db', db, '--redis', own.url];
      // Every request is refused.
      for (let i = 0; i < 50; i++) server.queue.push({ status: 401, body: `{"error":{"message":"Incorrect API key provided: ${KEY}"}}` });
      const sweep = await runCli(['sweep', ...settings], env);
      expect(sweep.code, sweep.stderr).toBe(2);
      expect(sweep.stderr).toMatch(/error: .*answered HTTP 401 \(check OPENAI_API_KEY\)/);
      expect(sweep.stderr + sweep.stdout).not.toContain(KEY);
      const worker = await runCli(['worker', '--redis', own.url, '--db', db, '--model', FIXTURE, '--backend', 'wasm', '--llm'], env);
      expect(worker.code, worker.stderr).toBe(2);
      expect(worker.stderr).toMatch(/worker: stopping: this setup would fail every job/);
      expect(worker.stderr).toMatch(/error: .*answered HTTP 401/);

      // Nothing failed, nothing counted: both jobs wait on the queue, and the store has them pending.
      const queue = new Queue(SWEEP_QUEUE, { connection: redisConnection(own.url) });
      try {
        expect(await queue.getJobCounts('completed', 'failed', 'waiting', 'active')).toMatchObject({ completed: 0, failed: 0, waiting: 2, active: 0 });
        for (const j of await queue.getJobs(['waiting'])) expect(j.attemptsMade).toBe(0);
      } finally {
        await queue.close();
      }
      const status = await runCli(['sweep', ...settings.slice(0, -2), '--status', '--json'], env);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ total: 2, done: 0, failed: 0, pending: 2 });
    } finally {
      await own.stop();
      await server.stop();
    }
  }, 120_000);

  it('--redis refuses what is not a redis URL, and the flags that need a queue name it', async () => {
    const bad = await runCli(['sweep', ...SETTINGS, '--db', ':memory:', '--redis', 'http://127.0.0.1:1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a redis:\/\/ URL; give auto, or redis:\/\/host:port/);
    const noQueue = await runCli(['sweep', ...SETTINGS, '--db', ':memory:', '--enqueue-only']);
    expect(noQueue.code).toBe(2);
    expect(noQueue.stderr).toMatch(/--enqueue-only needs --redis/);
    const worker = await runCli(['worker', '--db', ':memory:']);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/--redis is required/);
  });
});
