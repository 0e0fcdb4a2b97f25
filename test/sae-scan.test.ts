// Corpus scans of SAE latents (`textdream scan --sae`, `textdream neuron --sae --latent`): every latent of a small
// JumpReLU SAE on the fixture model gets the statistics, top windows and histogram a neuron gets, checked against
// each window measured on its own through the dreaming code's latent target (a different path: the target's hook
// read and encode, hard-evaluated window by window), and against a brute-force ranking of every window of the corpus.
// A latent scan leaves the neurons' pages alone, and bad input is refused naming the fix.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { measureIds } from '../src-main/dream/hard.js';
import { saeLatentTarget } from '../src-main/dream/objectives.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { loadSae, type Sae } from '../src-main/sae/load.js';
import { loadScanCorpus, planWindows } from '../src-main/scan/corpus.js';
import { SqliteStore } from '../src-main/store/sqlite.js';
import type { NeuronPageData } from '../src-main/store/types.js';
import { runCli } from './helpers/cli.js';
import { writeJumpReluSae } from './helpers/sae.js';
import { FIXTURE } from './helpers/shared.js';
import { writeSweepCorpus } from './helpers/sweepCorpus.js';

const dir = mkdtempSync(join(tmpdir(), 'textdream-sae-scan-'));
const CORPUS = join(dir, 'corpus.jsonl');
const SAE = join(dir, 'sae');
const DB = join(dir, 'store.db');
const D_SAE = 24;
const WINDOW = 12;
const TOP = 5;
const common = ['--model', FIXTURE, '--backend', 'wasm', '--db', DB];

let lm: LoadedModel;
let sae: Sae;
beforeAll(async () => {
  writeSweepCorpus(CORPUS);
  await writeJumpReluSae(SAE, { dIn: 32, dSae: D_SAE, hook: 'blocks.1.hook_resid_pre', seed: 7, threshold: 0.3 });
  await initBackend('wasm');
  lm = await loadModel(FIXTURE);
  sae = await loadSae(SAE);
});
afterAll(() => {
  sae?.dispose();
  lm?.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function latentPage(latent: number): Promise<NeuronPageData> {
  const r = await runCli(['neuron', ...common, '--sae', SAE, '--latent', String(latent), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as NeuronPageData;
}

describe('scans of SAE latents', () => {
  it('keeps each latent\'s statistics and top windows as measuring every window of the corpus through the latent target gives', async () => {
    const scan = await runCli(['scan', ...common, '--corpus', CORPUS, '--sae', SAE, '--window', String(WINDOW), '--top', String(TOP), '--random', '4', '--sample', '1']);
    expect(scan.code, scan.stderr).toBe(0);
    expect(scan.stderr).toMatch(new RegExp(`the ${D_SAE} latents of .* \\(blocks\\.1\\.hook_resid_pre\\)`));
    expect(scan.stdout).toMatch(/see a latent: textdream neuron --sae /);

    // Every window of the plan, measured latent by latent through the dreaming code (max over its tokens).
    const { docs } = await loadScanCorpus(CORPUS, false);
    const plan = planWindows(docs, lm.tokenizer, { window: WINDOW, seed: 0, maxTokens: null });
    const seqs = plan.order.map((i) => {
      const w = plan.windows[i];
      return Array.from(plan.tokens[w.doc].subarray(w.start, w.start + w.len));
    });
    let positiveSomewhere = 0;
    for (const latent of [0, 5, 11, 23]) {
      const evals = await measureIds(lm.model, lm.tokenizer, saeLatentTarget(sae, latent), seqs, 'max');
      const page = await latentPage(latent);
      expect(page.sae).toMatchObject({ hook: 'blocks.1.hook_resid_pre', latents: D_SAE });
      expect([page.layer, page.neuron, page.hook]).toEqual([1, latent, 'blocks.1.hook_resid_pre']);
      const all = evals.flatMap((e) => e.perToken);
      expect(page.stats!.count).toBe(all.length);
      expect(page.stats!.max).toBeCloseTo(Math.max(...all), 4);
      expect(page.stats!.mean).toBeCloseTo(all.reduce((a, b) => a + b, 0) / all.length, 4);
      expect(page.stats!.positive).toBeCloseTo(all.filter((v) => v > 0).length / all.length, 6);
      if (page.stats!.max > 0) positiveSomewhere++;
      // Each kept window's per-token values are the window's own, measured alone.
      for (const e of page.top) {
        const alone = (await measureIds(lm.model, lm.tokenizer, saeLatentTarget(sae, latent), [e.ids], 'max'))[0];
        e.acts.forEach((a, t) => expect(a).toBeCloseTo(alone.perToken[t], 4));
      }
      // The kept windows are the corpus's top TOP by the window's maximum (ties aside).
      const ranked = evals.map((e) => e.value).sort((a, b) => b - a);
      expect(page.top).toHaveLength(TOP);
      page.top.forEach((e, i) => expect(e.max).toBeCloseTo(ranked[i], 4));
      expect(page.random).toHaveLength(4);
    }
    // The SAE's threshold leaves some latents silent, not all of them.
    expect(positiveSomewhere).toBeGreaterThan(0);
  });

  it('leaves the neurons of the hook\'s layer without a scan, and reads them from a neuron scan once there is one', async () => {
    const before = await runCli(['neuron', ...common, '--layer', '1', '--neuron', '0', '--json']);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ scan: null, sae: null, hook: 'blocks.1.mlp.hook_post', top: [] });
    const scan = await runCli(['scan', ...common, '--corpus', CORPUS, '--layers', '1', '--window', String(WINDOW), '--top', String(TOP)]);
    expect(scan.code, scan.stderr).toBe(0);
    const after = JSON.parse((await runCli(['neuron', ...common, '--layer', '1', '--neuron', '0', '--json'])).stdout) as NeuronPageData;
    expect(after.sae).toBeNull();
    expect(after.scan!.config.sae).toBeUndefined();
    expect(after.top).toHaveLength(TOP);
    // The latent's page still reads the SAE's scan.
    expect((await latentPage(0)).scan!.config.sae?.hook).toBe('blocks.1.hook_resid_pre');
  });

  it('explains a latent from its scan (offline), with dreams of the latent, kept on the latent\'s page and not the neuron\'s', async () => {
    const page = await latentPage(5);
    expect(page.stats!.max).toBeGreaterThan(0);
    const r = await runCli(['explain', ...common, '--sae', SAE, '--latent', '5', '--with-dreams', '--dream-steps', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { layer: number; neuron: number; target: string; maxActivation: number; records: string; runs: { explanation: string; withDreams: boolean }[]; dreams: { dreams: { text: string; max: number }[] }; store: { explanations: string[] } };
    expect([out.layer, out.neuron, out.target]).toEqual([1, 5, `sae:${SAE}:5`]);
    expect(out.records).toBe(`scan ${page.scan!.id} of ${page.scan!.corpus}`);
    // The records are the scan's: the scale's 10 is the latent's corpus maximum.
    expect(out.maxActivation).toBeCloseTo(page.stats!.max, 5);
    expect(out.runs.map((x) => x.withDreams)).toEqual([false, true]);
    // The dreams are the latent's: each dream's max is the latent measured on the dream's text, re-tokenised.
    expect(out.dreams.dreams.length).toBeGreaterThan(0);
    for (const d of out.dreams.dreams) {
      const [m] = await measureIds(lm.model, lm.tokenizer, saeLatentTarget(sae, 5), [lm.tokenizer.encode(d.text)], 'max');
      expect(d.max).toBeCloseTo(m.max, 4);
    }
    const after = await latentPage(5);
    expect(after.explanations.map((e) => e.id).sort()).toEqual([...out.store.explanations].sort());
    expect(after.explanations.every((e) => e.sae === page.sae!.fingerprint && e.layer === 1 && e.neuron === 5)).toBe(true);
    const neuron = JSON.parse((await runCli(['neuron', ...common, '--layer', '1', '--neuron', '5', '--json'])).stdout) as NeuronPageData;
    expect(neuron.explanations).toEqual([]);
    // A dream of the latent, kept in the same store, is listed on its page (and not on the neuron's).
    const dream = await runCli(['dream', ...common, '--objective', `sae:${SAE}:5`, '--method', 'embed', '--steps', '2', '--json']);
    expect(dream.code, dream.stderr).toBe(0);
    expect((await latentPage(5)).dreams.map((d) => d.target)).toEqual([`sae:${SAE}:5`]);
    expect((JSON.parse((await runCli(['neuron', ...common, '--layer', '1', '--neuron', '5', '--json'])).stdout) as NeuronPageData).dreams).toEqual([]);
  });

  it('carries a latent\'s scan, dreams and explanations to another store through history --export / --import', async () => {
    const file = join(dir, 'history.json');
    const other = join(dir, 'other.db');
    const ex = await runCli(['history', '--db', DB, '--export', file]);
    expect(ex.code, ex.stderr).toBe(0);
    const im = await runCli(['history', '--db', other, '--import', file]);
    expect(im.code, im.stderr).toBe(0);
    const read = async (db: string) => {
      const r = await runCli(['neuron', '--model', FIXTURE, '--db', db, '--sae', SAE, '--latent', '5', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as NeuronPageData;
    };
    const [a, b] = [await read(DB), await read(other)];
    expect(b.explanations.length).toBeGreaterThan(0);
    expect(b.explanations).toEqual(a.explanations);
    expect([b.stats, b.top, b.dreams.map((d) => d.id)]).toEqual([a.stats, a.top, a.dreams.map((d) => d.id)]);
  });

  it('sweeps latents (sae:X:N jobs: the SAE\'s scan, dreams of the latent, explanations kept with the SAE), listed apart from neurons, exported', async () => {
    const db = join(dir, 'sweep.db');
    const args = ['sweep', '--model', FIXTURE, '--backend', 'wasm', '--db', db, '--corpus', CORPUS, '--window', String(WINDOW), '--sae', SAE, '--neurons', '0-2', '--methods', 'embed', '--steps', '2', '--seq-len', '4'];
    const r = await runCli([...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`\\[1/3\\] sae:${SAE.replace(/[/.-]/g, '\\$&')}:0 done`));
    const run = JSON.parse(r.stdout) as { modelFingerprint: string; settingsHash: string; settings: { scan: { sae: { fingerprint: string; hook: string; latents: number } } } };
    expect(run.settings.scan.sae).toMatchObject({ hook: 'blocks.1.hook_resid_pre', latents: D_SAE });
    const s = new SqliteStore(db);
    try {
      const pages = s.sweepPages(run.modelFingerprint, run.settingsHash);
      expect(pages.map((p) => [p.layer, p.neuron])).toEqual([[1, 0], [1, 1], [1, 2]]);
      for (const p of pages) {
        // The page's statistics are the latent's scan's; its dream aims at the latent; its explanation is the latent's.
        const latent = s.neuronPage({ model: run.modelFingerprint, layer: 0, neuron: p.neuron, sae: run.settings.scan.sae.fingerprint })!;
        expect(p.page.stats!.max).toBeCloseTo(latent.stats!.max, 6);
        expect(s.getDreamRun(p.dreamRunIds[0])!.target).toBe(`sae:${SAE}:${p.neuron}`);
        expect(latent.explanations.map((e) => e.id)).toEqual(p.explanationIds);
        expect(latent.explanations[0].sae).toBe(run.settings.scan.sae.fingerprint);
      }
      // The browser's rows: the SAE's latents under its hook's layer, and no neuron rows of that layer.
      expect(s.sweptLayer(run.modelFingerprint, 1, undefined, run.settings.scan.sae.fingerprint).map((n) => [n.neuron, n.status])).toEqual([[0, 'done'], [1, 'done'], [2, 'done']]);
      expect(s.sweptLayer(run.modelFingerprint, 1)).toEqual([]);
    } finally {
      s.close();
    }
    const st = await runCli([...args, '--status', '--json']);
    expect(st.code, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ total: 3, done: 3, settingsHash: run.settingsHash });
    const file = join(dir, 'latents.jsonl');
    const ex = await runCli([...args, '--export', file]);
    expect(ex.code, ex.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { settings?: { scan: { sae: unknown } }; neuron?: number });
    expect(lines[0].settings!.scan.sae).toEqual(run.settings.scan.sae);
    expect(lines.slice(1).map((l) => l.neuron)).toEqual([0, 1, 2]);
    const bad = await runCli([...args, '--layers', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--layers does not apply with --sae/);
    const tooMany = await runCli([...args.map((a) => (a === '0-2' ? `0-${D_SAE}` : a))]);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(new RegExp(`--neurons: ${D_SAE} is out of range: the SAE .* has latents 0-${D_SAE - 1}`));
  });

  it('refuses bad input naming the fix', async () => {
    const cases: [string[], RegExp][] = [
      [['scan', ...common, '--corpus', CORPUS, '--sae', SAE, '--layers', '1'], /--layers and --sae exclude each other/],
      [['scan', ...common, '--corpus', CORPUS, '--sae', join(dir, 'nope')], /--sae .*nope.*SAE folder does not exist/],
      [['neuron', ...common, '--sae', SAE, '--latent', String(D_SAE)], new RegExp(`--latent ${D_SAE} is out of range: the SAE .* has latents 0-${D_SAE - 1}`)],
      [['neuron', ...common, '--sae', SAE], /--latent is required/],
      [['neuron', ...common, '--layer', '1', '--neuron', '0', '--latent', '3'], /--latent needs --sae/],
      [['neuron', '--backend', 'wasm', '--db', join(dir, 'empty.db'), '--model', FIXTURE, '--sae', SAE, '--latent', '1'], /no scan of the SAE .* run `textdream scan --sae/],
      [['explain', '--backend', 'wasm', '--db', join(dir, 'empty.db'), '--model', FIXTURE, '--sae', SAE, '--latent', '1'], /no scan of the SAE .* run `textdream scan --sae/],
      [['explain', ...common, '--sae', SAE, '--latent', String(D_SAE)], new RegExp(`--latent must be .*the SAE .* has latents 0-${D_SAE - 1}|--latent ${D_SAE} is out of range`)],
      [['explain', ...common, '--sae', SAE, '--latent', '1', '--layer', '1'], /drop --layer and --neuron/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
