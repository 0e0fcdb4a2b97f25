// `textdream sweep` on the tiny fixture model with a small corpus file: one page per neuron (a dream and a scored
// explanation), reruns that skip everything, --force, Ctrl-C and an abort inside a job followed by a rerun that ends
// with the pages of an uninterrupted sweep, --status, failures and retries in the runner, duplicate completions,
// and the refusals of bad input.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { main } from '../src-main/cli/main.js';
import { offlineExplainer, offlineSimulator } from '../src-main/explain/offline.js';
import { shippedSeedSource } from '../src-main/dream/seedPool.js';
import { assessReadability } from '../src-main/readability/assess.js';
import type { ReadabilityJudge } from '../src-main/readability/judge.js';
import { loadShippedJudge } from '../src-main/readability/shipped.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { modelRefOf } from '../src-main/store/persist.js';
import { SqliteStore } from '../src-main/store/sqlite.js';
import { SweepAbortedError } from '../src-main/sweep/errors.js';
import { runNeuronJob, type NeuronJobContext } from '../src-main/sweep/job.js';
import { canonicalJSON, expandJobs, jobKey, parseSelection, resolveSelection, settingsHash } from '../src-main/sweep/jobs.js';
import { modelIdentity } from '../src-main/sweep/model.js';
import { runSweep, type SweepProgress } from '../src-main/sweep/runner.js';
import { scanSource } from '../src-main/sweep/scan.js';
import { sweepSettings } from '../src-main/sweep/settings.js';
import type { SweepStatus } from '../src-main/sweep/status.js';
import type { SweepPage, SweepSettings } from '../src-main/sweep/types.js';
import { cleanEnv, runCli } from './helpers/cli.js';
import { fakeInterpreter, startOpenAIServer } from './helpers/openaiServer.js';
import { FIXTURE } from './helpers/shared.js';
import { withStoreFile } from './helpers/storeFile.js';
import { writeSweepCorpus } from './helpers/sweepCorpus.js';

// Settings from the developer's own shell must not change what these tests see.
for (const k of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'TEXTDREAM_LLM_BASE_URL', 'TEXTDREAM_LLM_MODEL', 'TEXTDREAM_LLM_TIMEOUT_MS']) delete process.env[k];


const dir = mkdtempSync(join(tmpdir(), 'textdream-sweep-'));
const CORPUS = join(dir, 'corpus.jsonl');
const db = (name: string) => join(dir, `${name}.db`);
/** Cheap settings: embed dreams of 2 steps on 4 tokens, a 16-token scan window over the small corpus. */
const SETTINGS = ['--corpus', CORPUS, '--window', '16', '--methods', 'embed', '--steps', '2', '--seq-len', '4', '--seed', '3'];
const args = (store: string, ...extra: string[]) => ['sweep', '--model', FIXTURE, '--backend', 'wasm', '--db', store, ...SETTINGS, '--layers', '1', '--neurons', '0-3', ...extra];

let lm: LoadedModel;
let judge: ReadabilityJudge;
beforeAll(async () => {
  writeSweepCorpus(CORPUS);
  await initBackend('wasm');
  lm = await loadModel(FIXTURE);
  judge = (await loadShippedJudge(lm.tokenizer)).judge;
});
afterAll(() => {
  lm?.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const TABLES = ['sweep_pages', 'sweep_jobs', 'dream_runs', 'dream_steps', 'explanations', 'scans', 'search'] as const;
type Counts = Record<(typeof TABLES)[number], number>;

const rowCounts = (file: string): Counts =>
  withStoreFile(file, (s) => Object.fromEntries(TABLES.map((t) => [t, (s.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n])) as Counts);

interface RunJSON {
  modelFingerprint: string;
  settingsHash: string;
  report: { ran: number; stopped: boolean; done: number; failed: number; pending: number; total: number };
  status: SweepStatus;
}

async function sweepJSON(store: string, ...extra: string[]): Promise<RunJSON> {
  const r = await runCli([...args(store, ...extra), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunJSON;
}

const pagesOf = (file: string, run: RunJSON) => withStoreFile(file, (s) => s.sweepPages(run.modelFingerprint, run.settingsHash));

describe('textdream sweep', () => {
  let first: RunJSON;
  let firstPages: SweepPage[];

  it('writes one page per neuron, each with a dream and a scored explanation, in one transaction with its rows', async () => {
    first = await sweepJSON(db('a'));
    expect(first.report).toMatchObject({ ran: 4, stopped: false, total: 4, done: 4, failed: 0, pending: 0 });
    const rows = pagesOf(db('a'), first);
    expect(rows.map((r) => `L${r.layer}N${r.neuron}`)).toEqual(['L1N0', 'L1N1', 'L1N2', 'L1N3']);
    for (const r of rows) {
      expect(r.page.format).toBe('textdream-sweep-page');
      expect(r.page.dreams).toHaveLength(1);
      expect(r.page.dreams[0]).toMatchObject({ method: 'embed', steps: 2 });
      expect(r.page.dreams[0].best!.text.length).toBeGreaterThan(0);
      expect(typeof r.page.dreams[0].best!.value).toBe('number');
      expect(r.page.explanation.explainer).toBe('offline');
      expect(typeof r.page.explanation.score).toBe('number');
      expect(r.score).toBe(r.page.explanation.score);
      expect(r.page.stats!.count).toBeGreaterThan(0);
      expect(r.dreamRunIds).toHaveLength(1);
      expect(r.explanationIds).toHaveLength(1);
    }
    withStoreFile(db('a'), (s) => {
      for (const r of rows) {
        const run = s.getDreamRun(r.dreamRunIds[0])!;
        expect(run).toMatchObject({ status: 'completed', layer: r.layer, neuron: r.neuron, method: 'embed', steps: 2 });
        expect(run.result!.best!.text).toBe(r.page.dreams[0].best!.text);
        const ex = s.listExplanations({ layer: r.layer, neuron: r.neuron });
        expect(ex.map((e) => e.id)).toEqual(r.explanationIds);
        expect(ex[0]).toMatchObject({ text: r.page.explanation.text, score: r.page.explanation.score, scanId: r.scanId });
      }
      expect(s.sweepJobStates(first.modelFingerprint, first.settingsHash).map((j) => [j.status, j.attempts])).toEqual(Array(4).fill(['done', 1]));
    });
    expect(rowCounts(db('a'))).toMatchObject({ sweep_pages: 4, sweep_jobs: 4, dream_runs: 4, explanations: 4, scans: 1 });
    firstPages = rows.map((r) => r.page);
  });

  it('dreams seeded too, judges every dream for readability, and shows each neuron by its most activating readable dream', async () => {
    // 10-token dreams. Which dream the row shows for each outcome is tested on hand-built pages (sweep-page.test.ts);
    // here the row must agree with the stored runs, whatever this search found.
    const run = await sweepJSON(db('seeded'), '--methods', 'embed,seeded', '--neurons', '7', '--seq-len', '10');
    expect(run.report).toMatchObject({ ran: 1, done: 1 });
    const rows = pagesOf(db('seeded'), run);
    withStoreFile(db('seeded'), (s) => {
      for (const r of rows) {
        expect(r.page.dreams.map((d) => d.method)).toEqual(['embed', 'seeded']);
        const [embed, seeded] = r.page.dreams;
        // embed's dream judged as the judge judges its text alone.
        const verdict = assessReadability(judge, embed.best!.text);
        expect(embed.best).toMatchObject({ percentile: verdict.percentile, readable: verdict.readable });
        // seeded's, as its stored run judged it (beside the window it was edited from), and it started from a seed.
        const stored = s.getDreamRun(r.dreamRunIds[1])!.result!;
        expect(stored.best!.origin?.seedText.length).toBeGreaterThan(0);
        // A seed no edit changed is corpus text: its page summary is never readable, whatever the rule says of it.
        const edits = stored.best!.origin!.edits;
        expect(seeded.best).toMatchObject({ text: stored.best!.text, percentile: stored.best!.readability!.percentile, edits, readable: stored.best!.readability!.readable! && edits >= 1 });
        expect(seeded.bestReadable?.text ?? null).toBe(stored.bestReadable?.text ?? null);
        for (const d of r.page.dreams) if (d.bestReadable) expect(d.bestReadable.readable).toBe(true);
        // The browser's row: the most activating readable dream of any method, else the most activating dream.
        const readable = r.page.dreams.flatMap((d) => (d.bestReadable ? [d.bestReadable] : [])).sort((a, b) => b.value! - a.value!);
        const fallback = r.page.dreams.map((d) => d.best!).sort((a, b) => b.value! - a.value!);
        const row = s.sweptLayer(run.modelFingerprint, 1).find((n) => n.neuron === r.neuron && n.settingsHash === run.settingsHash)!;
        expect([row.dream, row.dreamReadable]).toEqual(readable.length ? [readable[0].text, true] : [fallback[0].text, false]);
      }
    });
  });

  it('a second run skips every neuron and writes nothing', async () => {
    const before = rowCounts(db('a'));
    const again = await sweepJSON(db('a'));
    expect(again.settingsHash).toBe(first.settingsHash);
    expect(again.report).toMatchObject({ ran: 0, done: 4, pending: 0 });
    expect(rowCounts(db('a'))).toEqual(before);
  });

  it('--status counts done, running, failed and pending neurons without loading the model; --json too', async () => {
    const t = await runCli([...args(db('a')).map((a) => (a === '0-3' ? '0-7' : a)), '--status']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).not.toMatch(/backend:/);
    expect(t.stdout).toMatch(/\[#{12}-{12}\] 4\/8 done · 0 running · 0 failed · 4 pending · ETA \d/);
    expect(t.stdout).toContain(`settings ${first.settingsHash}`);
    const j = await runCli([...args(db('a')), '--status', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const s = JSON.parse(j.stdout) as SweepStatus & { settingsHash: string; modelFingerprint: string };
    expect(s).toMatchObject({ total: 4, done: 4, running: 0, failed: 0, pending: 0, etaMs: 0, failures: [], settingsHash: first.settingsHash, modelFingerprint: first.modelFingerprint });
    expect(s.meanJobMs).toBeGreaterThan(0);
    // Other settings are another sweep: nothing done yet.
    const other = await runCli([...args(db('a'), '--seed', '4'), '--status', '--json']);
    expect(JSON.parse(other.stdout)).toMatchObject({ total: 4, done: 0, pending: 4 });
  });

  it('--force redoes every neuron: new rows, the page replaced by an equal one (same seeds)', async () => {
    const before = rowCounts(db('a'));
    const forced = await sweepJSON(db('a'), '--force');
    expect(forced.report).toMatchObject({ ran: 4, done: 4 });
    const after = rowCounts(db('a'));
    expect(after).toMatchObject({ sweep_pages: 4, sweep_jobs: 4, dream_runs: before.dream_runs + 4, explanations: before.explanations + 4, scans: 1 });
    const rows = pagesOf(db('a'), forced);
    expect(rows.map((r) => r.page)).toEqual(firstPages);
    withStoreFile(db('a'), (s) => {
      // The new page points at the new rows.
      for (const r of rows) expect(s.listRuns({ layer: r.layer, neuron: r.neuron, limit: 1 })[0].id).toBe(r.dreamRunIds[0]);
    });
  });

  it('Ctrl-C stops after a finished neuron (exit 3); --status shows it; a rerun completes the rest with the uninterrupted pages', async () => {
    const before = process.listenerCount('SIGINT');
    let stderr = '';
    const code = await main(args(db('b')), {
      stdout: () => undefined,
      stderr: (s) => {
        stderr += s;
        if (/\[2\/4\] L1N1 done/.test(s)) process.emit('SIGINT');
      },
      env: cleanEnv(),
    });
    expect(code, stderr).toBe(3);
    expect(stderr).toMatch(/interrupted: stopping the sweep/);
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(rowCounts(db('b'))).toMatchObject({ sweep_pages: 2, dream_runs: 2, explanations: 2 });
    const st = await runCli([...args(db('b')), '--status', '--json']);
    expect(JSON.parse(st.stdout)).toMatchObject({ total: 4, done: 2, running: 0, failed: 0, pending: 2 });
    const rest = await sweepJSON(db('b'));
    expect(rest.report).toMatchObject({ ran: 2, done: 4, pending: 0 });
    expect(pagesOf(db('b'), rest).map((r) => r.page)).toEqual(firstPages);
    expect(rowCounts(db('b'))).toMatchObject({ sweep_pages: 4, dream_runs: 4, explanations: 4, scans: 1 });
  });

  it('bad selections and settings are refused (exit 2) with a message naming the fix', async () => {
    const cases: [string[], RegExp][] = [
      [['--neurons', '5-2'], /--neurons: the range 5-2 runs backwards: write it low-high, e\.g\. 2-5/],
      [['--neurons', 'x'], /--neurons must be all, a range like 0-63 or a list like 1,5,9/],
      [['--neurons', '1,,2'], /--neurons must be all, a range like 0-63/],
      [['--neurons', '0-300'], /--neurons: 300 is out of range: each layer has neurons 0-127; use e\.g\. --neurons 0-127 or --neurons all/],
      [['--layers', '2'], /--layers: 2 is out of range: this model has layers 0-1; use e\.g\. --layers 0-1 or --layers all/],
      [['--layers', ''], /--layers is empty/],
      [['--methods', 'latent'], /--methods: "latent" is not a sweep method \(latent needs a sentence autoencoder of the model.*use one or more of fluent, embed/],
      [['--max-attempts', '0'], /--max-attempts 0 is out of range: use 1-1000/],
      [['--status', '--force'], /--status, --export and --report only read the store: drop --force/],
    ];
    for (const [extra, message] of cases) {
      // A later flag wins, so each case overrides the defaults of args().
      const r = await runCli([...args(db('c')), ...extra]);
      expect(r.code, `${extra.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('textdream sweep --llm', () => {
  it('a refused key stops the sweep (exit 2) with every neuron pending; then the endpoint explains every neuron', async () => {
    const KEY = 'sk-sweep-secret-0a1b2c3d4e5f60718293';
    const server = await startOpenAIServer(fakeInterpreter);
    try {
      const env = { TEXTDREAM_LLM_BASE_URL: server.url, TEXTDREAM_LLM_MODEL: 'fake-model', OPENAI_API_KEY: KEY };
      const llm = (...extra: string[]) => [...args(db('llm'), '--neurons', '0-1', '--llm'), ...extra];
      server.queue.push({ status: 401, body: `{"error":{"message":"Incorrect API key provided: ${KEY}"}}` });
      const refused = await runCli(llm(), env);
      server.queue.length = 0;
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/error: .*answered HTTP 401 \(check OPENAI_API_KEY\)/);
      expect(refused.stderr + refused.stdout).not.toContain(KEY);
      const st = await runCli(llm('--status', '--json'), env);
      expect(JSON.parse(st.stdout)).toMatchObject({ total: 2, done: 0, failed: 0, pending: 2, failures: [] });

      server.calls.length = 0;
      const r = await runCli(llm('--json'), env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(KEY);
      const run = JSON.parse(r.stdout) as RunJSON & { settings: SweepSettings };
      expect(run.report).toMatchObject({ ran: 2, done: 2 });
      expect(run.settings.explain.explainer).toBe('llm:fake-model');
      expect(server.calls.length).toBe(22); // (1 explanation + 10 simulations) per neuron
      const offline = JSON.parse((await runCli([...args(db('llm'), '--neurons', '0-1'), '--status', '--json'])).stdout) as { settingsHash: string; done: number };
      expect(offline).toMatchObject({ done: 0 });
      expect(offline.settingsHash).not.toBe(run.settingsHash);
      withStoreFile(db('llm'), (s) => {
        for (const p of s.sweepPages(run.modelFingerprint, run.settingsHash)) {
          expect(p.page.explanation).toMatchObject({ explainer: 'llm:fake-model', simulator: 'llm:fake-model' });
          expect(p.page.explanation.text).toMatch(/^the word "/);
          const [e] = s.listExplanations({ layer: p.layer, neuron: p.neuron });
          expect(e.meta.llm).toEqual({ baseURL: server.url, model: 'fake-model' });
        }
      });
    } finally {
      await server.stop();
    }
  });
});

describe('the job and the runner', () => {
  const settings = (): SweepSettings =>
    sweepSettings({ corpus: CORPUS, heldOut: false, maxTokens: null, window: 16, methods: ['embed'], steps: 2, seed: 3, seqLen: 4, explainer: 'offline', withDreams: true }, lm.config);

  function context(store: SqliteStore, explainer = offlineExplainer()): NeuronJobContext {
    const modelRef = modelRefOf(lm, FIXTURE);
    return { model: lm.model, tokenizer: lm.tokenizer, modelDir: lm.source.dir, modelRef, store, scans: scanSource({ model: lm.model, tokenizer: lm.tokenizer, modelRef, store }), explainer, simulator: offlineSimulator(), judge, seedSource: shippedSeedSource(lm.model, lm.tokenizer) };
  }

  it('an abort inside a job (after its dream, before its page) writes none of its rows; the rerun ends as an uninterrupted sweep', async () => {
    const s = settings();
    const fp = modelRefOf(lm, FIXTURE).fingerprint;
    const jobs = expandJobs(fp, lm.config, 'all', [[4, 6]], s).filter((j) => j.layer === 0);
    expect(jobs.map((j) => j.neuron)).toEqual([4, 5, 6]);
    const whole = new SqliteStore(db('whole'));
    const cut = new SqliteStore(db('cut'));
    try {
      const all = await runSweep({ jobs, store: whole, run: (job, o) => runNeuronJob(job, context(whole), o), maxAttempts: 1 });
      expect(all).toMatchObject({ ran: 3, done: 3 });
      // The first dream fills the model's caches; from then on jobs, stopped or not, leave no tensor behind.
      const tensors = tf.memory().numTensors;

      const ac = new AbortController();
      const base = offlineExplainer();
      // The explainer of L0N5 pulls the plug while it runs: the job has dreamed and explained, but must write nothing.
      const plug = { ...base, explain: async (...a: Parameters<typeof base.explain>) => (a[0].neuron === 5 && ac.abort(), base.explain(...a)) };
      const events: SweepProgress[] = [];
      const stopped = await runSweep({ jobs, store: cut, run: (job, o) => runNeuronJob(job, context(cut, plug), o), maxAttempts: 1, signal: ac.signal, onProgress: (p) => events.push(p) });
      expect(stopped).toMatchObject({ ran: 1, stopped: true, done: 1, pending: 2 });
      expect(events.map((e) => `${e.type} L${e.job.layer}N${e.job.neuron}`)).toEqual(['start L0N4', 'done L0N4', 'start L0N5', 'stopped L0N5']);
      expect(events.at(-1)!.counts).toMatchObject({ done: 1, running: 0, pending: 2 });
      const counts = (t: string) => (cut.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      // With dreams: two explanations per page (with and without); the stopped job left no dream run or explanation.
      expect([counts('sweep_pages'), counts('dream_runs'), counts('explanations')]).toEqual([1, 1, 2]);
      expect(cut.sweepJobStates(fp, jobs[0].settingsHash).map((j) => [j.neuron, j.status, j.attempts])).toEqual([
        [4, 'done', 1],
        [5, 'interrupted', 0],
      ]);

      const rest = await runSweep({ jobs, store: cut, run: (job, o) => runNeuronJob(job, context(cut), o), maxAttempts: 1 });
      expect(rest).toMatchObject({ ran: 2, done: 3, stopped: false });
      expect(tf.memory().numTensors).toBe(tensors);
      const pages = (st: SqliteStore) => st.sweepPages(fp, jobs[0].settingsHash).map((r) => r.page);
      expect(pages(cut)).toEqual(pages(whole));
      for (const p of pages(cut)) {
        expect(p.explanation.withDreams).toBe(true);
        expect(p.withoutDreams!.withDreams).toBe(false);
        expect(p.uplift).toBeCloseTo((p.explanation.score ?? 0) - (p.withoutDreams!.score ?? 0), 12);
      }
    } finally {
      whole.close();
      cut.close();
    }
  });

  it('an abort while dreaming stops the dream within a step and writes nothing', async () => {
    const s = sweepSettings({ corpus: CORPUS, heldOut: false, maxTokens: null, window: 16, methods: ['embed'], steps: 1_000_000, seed: 3, seqLen: 4, explainer: 'offline', withDreams: false }, lm.config);
    const store = new SqliteStore(db('dreaming'));
    try {
      const [job] = expandJobs(modelRefOf(lm, FIXTURE).fingerprint, lm.config, [[1, 1]], [[2, 2]], s);
      const ac = new AbortController();
      const ctx = context(store);
      // Pull the plug once the scan is there, i.e. while the (million-step) dream runs.
      const scans = {
        ensure: async (...a: Parameters<typeof ctx.scans.ensure>) => {
          const scan = await ctx.scans.ensure(...a);
          setTimeout(() => ac.abort(), 100);
          return scan;
        },
      };
      const t0 = Date.now();
      const stopped = runNeuronJob(job, { ...ctx, scans }, { signal: ac.signal });
      await expect(stopped).rejects.toThrow(SweepAbortedError);
      await expect(stopped).rejects.toThrow(/L1N2 stopped while dreaming \(embed, step \d+\/1000000\)/);
      await expect(runNeuronJob(job, { ...ctx, scans }, { signal: ac.signal })).rejects.toThrow(/stopped before it started/);
      expect(Date.now() - t0).toBeLessThan(20_000);
      const n = (t: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      expect([n('sweep_pages'), n('dream_runs'), n('explanations'), n('scans')]).toEqual([0, 0, 0, 1]);
    } finally {
      store.close();
    }
  });

  it('a duplicate completion writes nothing; with replace it swaps the page', async () => {
    const s = settings();
    const store = new SqliteStore(db('dup'));
    const ctx = () => context(store);
    try {
      const [job] = expandJobs(modelRefOf(lm, FIXTURE).fingerprint, lm.config, [[0, 0]], [[9, 9]], s);
      const first = await runNeuronJob(job, ctx());
      expect(first.written).toBe(true);
      const count = () => TABLES.map((t) => (store.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n);
      const before = count();
      const page = store.sweepPage(job)!;
      const again = await runNeuronJob(job, ctx());
      expect(again.written).toBe(false);
      expect(again.page).toEqual(page.page);
      expect(count()).toEqual(before);
      expect(store.sweepPage(job)).toEqual(page);
      // A completion that fails part-way (its explanation's id is taken) leaves no row behind: not its dream run either.
      const run = store.getDreamRun(page.dreamRunIds[0])!;
      const [taken] = store.listExplanations({ layer: 0, neuron: 9 });
      const broken = { key: jobKey(job), settings: s, model: modelRefOf(lm, FIXTURE), scanId: page.scanId, dreams: [{ config: run.config, records: run.records, result: run.result! }], explanations: [taken], score: 0, page: page.page, elapsedMs: 1 };
      expect(() => store.completeSweepJob(broken, { replace: true })).toThrow(/exists already/);
      expect(count()).toEqual(before);
      expect(store.sweepPage(job)).toEqual(page);
      const replaced = await runNeuronJob(job, ctx(), { replace: true });
      expect(replaced.written).toBe(true);
      const now = store.sweepPage(job)!;
      expect(now.page).toEqual(page.page);
      expect(now.dreamRunIds).not.toEqual(page.dreamRunIds);
      expect((store.db.prepare('SELECT count(*) AS n FROM sweep_pages').get() as { n: number }).n).toBe(1);
    } finally {
      store.close();
    }
  });

  it('failures are recorded with their message and attempt count, retried up to maxAttempts over runs, then skipped', async () => {
    const s = settings();
    const jobs = expandJobs('fake-model', { nLayer: 1, dMlp: 3 }, 'all', 'all', s);
    const store = new SqliteStore(db('fail'));
    try {
      const tries = new Map<number, number>();
      // N0 fails once then succeeds; N1 always fails; N2 succeeds. Nothing is written: the store only sees the claims.
      const run = async (job: (typeof jobs)[number]) => {
        const n = (tries.get(job.neuron) ?? 0) + 1;
        tries.set(job.neuron, n);
        if ((job.neuron === 0 && n === 1) || job.neuron === 1) throw new Error(`broken ${job.neuron}/${n}`);
        return { written: true, score: 0.5, elapsedMs: 10 };
      };
      const events: string[] = [];
      const r = await runSweep({ jobs, store, run, maxAttempts: 2, onProgress: (p) => events.push(`${p.type} N${p.job.neuron}${p.type === 'failed' ? ` ${p.attempt} ${p.willRetry}` : ''}`) });
      expect(events).toEqual(['start N0', 'failed N0 1 true', 'start N0', 'done N0', 'start N1', 'failed N1 1 true', 'start N1', 'failed N1 2 false', 'start N2', 'done N2']);
      expect(r).toMatchObject({ ran: 2, done: 2, failed: 1, pending: 0 });
      const states = store.sweepJobStates('fake-model', jobs[0].settingsHash);
      expect(states.find((x) => x.neuron === 1)).toMatchObject({ status: 'failed', attempts: 2, error: 'Error: broken 1/2' });
      // A rerun leaves the exhausted job alone; a higher maxAttempts tries it again; force restarts its count.
      const skip: string[] = [];
      await runSweep({ jobs: [jobs[1]], store, run, maxAttempts: 2, onProgress: (p) => skip.push(p.type) });
      expect(skip).toEqual(['skip']);
      await runSweep({ jobs: [jobs[1]], store, run, maxAttempts: 3 });
      expect(store.sweepJobStates('fake-model', jobs[0].settingsHash)[1]).toMatchObject({ status: 'failed', attempts: 3, error: 'Error: broken 1/3' });
      await runSweep({ jobs: [jobs[1]], store, run, maxAttempts: 1, force: true });
      expect(store.sweepJobStates('fake-model', jobs[0].settingsHash)[1]).toMatchObject({ status: 'failed', attempts: 1, error: 'Error: broken 1/4' });
    } finally {
      store.close();
    }
  });
});

describe('jobs as data', () => {
  it('selections: all, ranges and lists, sorted without repeats; the settings hash ignores key order', () => {
    expect(resolveSelection(parseSelection('3,0-2,2', '--neurons', 'neuron'), 8, '--neurons', 'each layer has neurons')).toEqual([0, 1, 2, 3]);
    expect(resolveSelection(parseSelection('all', '--layers', 'layer'), 3, '--layers', 'x')).toEqual([0, 1, 2]);
    expect(() => parseSelection('0-1e3', '--neurons', 'neuron')).toThrow(/--neurons must be all/);
    const s = sweepSettings({ corpus: 'brown', heldOut: true, maxTokens: 100, methods: ['fluent'], steps: 3, seed: 1, explainer: 'offline', withDreams: false }, lm.config);
    const reversed = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reversed) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
    const shuffled = reversed(s) as SweepSettings;
    expect(JSON.stringify(shuffled)).not.toBe(JSON.stringify(s));
    expect(canonicalJSON(shuffled)).toBe(canonicalJSON(s));
    expect(settingsHash(shuffled)).toBe(settingsHash(s));
    expect(settingsHash({ ...s, dreams: [{ ...s.dreams[0], steps: 4 }] })).not.toBe(settingsHash(s));
    expect(s.scan).toMatchObject({ corpus: 'brown', heldOut: true, window: 63 });
  });

  it('the model identity --status uses has the loaded model\'s fingerprint', async () => {
    const id = await modelIdentity(FIXTURE);
    expect(id.fingerprint).toBe(modelRefOf(lm, FIXTURE).fingerprint);
    expect(id.config.nLayer).toBe(2);
  });
});
