// `textdream scan`, `neuron` and `history` in-process on a model folder with a planted neuron, a real dream kept
// by persistDream and found again by a word of its text, history export → import, and user errors (exit 2).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dreamConfig } from '../src-main/dream/config.js';
import { runDream } from '../src-main/dream/run.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { modelRefOf, persistDream } from '../src-main/store/persist.js';
import { SqliteStore } from '../src-main/store/sqlite.js';
import type { NeuronPageData, ScanSummary } from '../src-main/store/types.js';
import { runCli } from './helpers/cli.js';
import { PLANTED, writePlantedCorpus, writePlantedModel } from './helpers/plantedModel.js';

const dir = mkdtempSync(join(tmpdir(), 'textdream-scancli-'));
const MODEL = join(dir, 'planted-model');
const CORPUS = join(dir, 'planted.jsonl');
const DB = join(dir, 'store.db');
const common = ['--model', MODEL, '--backend', 'wasm', '--db', DB];
let lm: LoadedModel;
let dreamId = '';
let dreamWord = '';

beforeAll(async () => {
  await writePlantedModel(MODEL);
  writePlantedCorpus(CORPUS);
});
afterAll(() => {
  lm?.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('textdream scan / neuron / history', () => {
  it('scan stores the planted neuron\'s windows; running it again reports the finished scan', async () => {
    const r = await runCli(['scan', ...common, '--corpus', CORPUS, '--window', '16', '--top', '5', '--random', '3', '--batch', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as ScanSummary;
    expect(s).toMatchObject({ status: 'completed', config: { layers: [0, 1], window: 16, top: 5, random: 3, sample: 8 } });
    expect(s.tokensDone).toBe(s.tokensTotal);
    expect(r.stderr).toMatch(/plan: .* tokens in .* windows of 16/);
    expect(r.stderr).toMatch(/tokens\/s · ETA/);
    const again = await runCli(['scan', ...common, '--corpus', CORPUS, '--window', '16', '--top', '5', '--random', '3']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('already scanned with these settings');
    expect(again.stdout).toContain(`scan ${s.id} completed`);
  });

  it('a dream kept with persistDream is on the neuron page and found by a word of its text', async () => {
    lm = await loadModel(MODEL);
    const ref = modelRefOf(lm, MODEL);
    const store = new SqliteStore(DB);
    const partial = { target: { kind: 'neuron' as const, layer: PLANTED.layer, neuron: PLANTED.neuron }, method: 'embed' as const, steps: 4, every: 2, seqLen: 6, batch: 3 };
    const gen = persistDream(store, ref, runDream({ model: lm.model, tokenizer: lm.tokenizer }, partial), dreamConfig(partial));
    dreamId = gen.runId;
    for await (const rec of gen) void rec;
    const run = store.getDreamRun(dreamId)!;
    expect(run).toMatchObject({ status: 'completed', steps: 4, target: 'L1N3' });
    expect(run.records.map((r) => r.step)).toEqual([2, 4]);
    dreamWord = run.records.flatMap((r) => r.dreams.map((d) => d.text)).join(' ').match(/\p{L}{3,}/u)![0];
    store.close();
    const h = await runCli(['history', '--db', DB, '--search', dreamWord, '--json']);
    expect(h.code, h.stderr).toBe(0);
    expect((JSON.parse(h.stdout) as { dreams: { id: string }[] }).dreams.map((d) => d.id)).toContain(dreamId);
  });

  it('neuron prints the page with the planted token marked, and --json exports it whole', async () => {
    const t = await runCli(['neuron', ...common, '--layer', '1', '--neuron', '3']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain('L1N3 · blocks.1.mlp.hook_post');
    expect(t.stdout).toMatch(/1 {2}\s*2\.99\d+ {2}doc\d+@\d+ {2}".*⟦ cat⟧/);
    expect(t.stdout).toMatch(/quantiles \(from [\d,]+ sampled tokens\): p0\.1 /);
    expect(t.stdout).toContain(dreamId.slice(0, 8));
    const j = await runCli(['neuron', ...common, '--layer', '1', '--neuron', '3', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const p = JSON.parse(j.stdout) as NeuronPageData;
    expect(p.format).toBe('textdream-neuron');
    expect(p.top).toHaveLength(5);
    expect(p.random).toHaveLength(3);
    expect(p.top.map((e) => e.tokens[e.maxAt])).toEqual([' cat', ' cat', ' kitten', ' kitten', ' cats']);
    expect(p.dreams.map((d) => d.id)).toEqual([dreamId]);
    expect(p.stats!.positive).toBeGreaterThan(0);
  });

  it('history lists runs, and an export imports into another store unchanged', async () => {
    const h = await runCli(['history', '--db', DB]);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/dream runs \(1\):\n {2}\w{8} .* L1N3 +embed +completed/);
    expect(h.stdout).toMatch(/scans \(1\):\n {2}\w{8} .* completed +.*planted\.jsonl · layers 0,1/);
    const file = join(dir, 'export.json');
    const e = await runCli(['history', '--db', DB, '--export', file]);
    expect(e.code, e.stderr).toBe(0);
    const other = join(dir, 'other.db');
    const i = await runCli(['history', '--db', other, '--import', file, '--json']);
    expect(i.code, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout)).toMatchObject({ dreamRuns: 1, scans: 1, skipped: 0 });
    const a = await runCli(['neuron', ...common, '--layer', '1', '--neuron', '3', '--json']);
    const b = await runCli(['neuron', '--model', MODEL, '--db', other, '--layer', '1', '--neuron', '3', '--json']);
    expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout));
    const twice = await runCli(['history', '--db', other, '--import', file, '--json']);
    expect(JSON.parse(twice.stdout)).toMatchObject({ dreamRuns: 0, scans: 0 });
  });

  it('user mistakes exit 2 with a message that names the fix', async () => {
    const cases: [string[], RegExp][] = [
      [['scan', ...common], /--corpus is required/],
      [['scan', ...common, '--corpus', CORPUS, '--held-out'], /--held-out .* does not apply to a file/],
      [['scan', ...common, '--corpus', CORPUS, '--layers', '2'], /layer 2 is out of range: this model has layers 0-1/],
      [['scan', ...common, '--corpus', CORPUS, '--window', '64'], /--window 64 is out of range: use 1-63/],
      [['scan', ...common, '--corpus', CORPUS, '--layers', 'x'], /--layers must be layer numbers/],
      [['neuron', ...common, '--layer', '1', '--neuron', '8'], /--neuron 8 is out of range: each layer has neurons 0-7/],
      [['neuron', '--model', join(dir, 'nowhere'), '--db', DB, '--layer', '0', '--neuron', '0'], /nothing stored for model/],
      [['history', '--db', DB, '--import', join(dir, 'missing.json')], /not a readable JSON file/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
