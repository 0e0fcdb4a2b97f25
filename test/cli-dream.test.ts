// `textdream dream` in-process: JSON lines that are hard evaluations (re-measured here from the text alone),
// user errors with exit 2, and the text summary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureTexts } from '../src-main/dream/hard.js';
import type { DreamResult, StepRecord } from '../src-main/dream/loop.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { main } from '../src-main/cli/main.js';
import { cleanEnv, runCli } from './helpers/cli.js';
import { FIXTURE } from './helpers/shared.js';

const BASE = ['dream', '--model', FIXTURE, '--backend', 'wasm'];
const SMALL = ['--layer', '1', '--neuron', '7', '--steps', '6', '--every', '3', '--seq-len', '6'];

let lm: LoadedModel | undefined;
afterAll(() => lm?.model.dispose());

type Line = ({ type: 'step' } & StepRecord) | ({ type: 'summary' } & DreamResult);

describe('textdream dream --json', () => {
  for (const method of ['embed', 'fluent'] as const) {
    it(`${method}: step lines and a summary whose values are hard (re-measured from the text)`, async () => {
      const extra = method === 'fluent' ? ['--candidates', '4', '--lambdas', '0,1'] : [];
      const r = await runCli([...BASE, ...SMALL, '--method', method, ...extra, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      const parsed = lines.map((l) => JSON.parse(l) as Line);
      const steps = parsed.filter((l): l is Extract<Line, { type: 'step' }> => l.type === 'step');
      const summaries = parsed.filter((l): l is Extract<Line, { type: 'summary' }> => l.type === 'summary');
      expect(steps.length + summaries.length).toBe(lines.length);
      expect(summaries).toHaveLength(1);
      expect(parsed.at(-1)!.type).toBe('summary');
      expect(steps.map((s) => s.step)).toEqual([3, 6]);
      for (const s of steps) {
        expect(typeof s.soft).toBe('number');
        expect(s.dreams.length).toBe(method === 'fluent' ? 2 : 6);
        expect(s.best).toBeGreaterThanOrEqual(0);
        expect(s.best).toBeLessThan(s.dreams.length);
      }
      if (method === 'fluent') expect(steps[0].dreams.map((d) => d.label)).toEqual(['λ=0', 'λ=1']);

      const sum = summaries[0];
      expect(sum.stopped).toBe('completed');
      expect(sum.steps).toBe(6);
      expect(sum.method).toBe(method);
      expect(sum.config).toMatchObject({ method, steps: 6, every: 3, seqLen: 6, target: { kind: 'neuron', layer: 1, neuron: 7 } });
      const initialBest = Math.max(...sum.initial.map((d) => d.value));
      expect(sum.best!.value).toBeGreaterThanOrEqual(initialBest);

      // Every reported value is a hard one: measuring the text alone gives it back.
      lm ??= await loadModel(FIXTURE);
      const dreams = [...steps.flatMap((s) => s.dreams), sum.best!, ...sum.bestPerLabel, ...sum.initial];
      const again = await measureTexts(lm.model, lm.tokenizer, neuronTarget(1, 7), dreams.map((d) => d.text), 'mean');
      dreams.forEach((d, i) => {
        expect(again[i].ids).toEqual(d.ids);
        expect(Math.abs(again[i].value - d.value), d.text).toBeLessThan(1e-4);
        expect(Math.abs(again[i].ce - d.ce), d.text).toBeLessThan(1e-4);
      });
    });
  }
});

describe('textdream dream --objective', () => {
  it('dreams for a weighted difference of neurons, and every value is that difference measured neuron by neuron', async () => {
    const r = await runCli([...BASE, '--objective', 'L1N7 - 0.5*L0N3', '--steps', '2', '--every', '2', '--seq-len', '6', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as DreamResult;
    expect(summary.config).toMatchObject({ target: { kind: 'sum', terms: [{ layer: 1, neuron: 7, weight: 1 }, { layer: 0, neuron: 3, weight: -0.5 }] } });
    lm ??= await loadModel(FIXTURE);
    const dreams = [summary.best!, ...summary.initial];
    const texts = dreams.map((d) => d.text);
    const a = await measureTexts(lm.model, lm.tokenizer, neuronTarget(1, 7), texts, 'mean');
    const b = await measureTexts(lm.model, lm.tokenizer, neuronTarget(0, 3), texts, 'mean');
    dreams.forEach((d, i) => {
      // mean over tokens is linear: the sum's value is the same combination of the two neurons' means.
      expect(Math.abs(d.value - (a[i].value - 0.5 * b[i].value)), d.text).toBeLessThan(1e-4);
    });
  });
});

describe('textdream dream: user errors exit 2 and name the flag', () => {
  it('--neuron out of range names --neuron and the range', async () => {
    const r = await runCli([...BASE, '--layer', '1', '--neuron', '999', '--steps', '1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/error: --neuron 999 is out of range: each layer has neurons 0-127/);
  });

  it('an unknown --method lists the methods', async () => {
    const r = await runCli([...BASE, ...SMALL, '--method', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: --method must be one of embed, projected, fluent, subspace, latent, beam, seeded; got "nope"/);
  });

  it('an unknown --seed-edits lists the kinds', async () => {
    const r = await runCli([...BASE, ...SMALL, '--method', 'seeded', '--seed-edits', 'nouns']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: --seed-edits must be one of part-of-speech, part-of-speech-keep-nouns, part-of-speech-with-adjectives, part-of-speech-with-verbs, any; got "nouns"/);
  });

  it('a missing --layer says what to give', async () => {
    const r = await runCli([...BASE, '--neuron', '7']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: --layer is required/);
  });

  it('bad numbers and a malformed --sum name their flag', async () => {
    for (const [args, re] of [
      [['--steps', 'many'], /--steps must be an integer, got "many"/],
      [['--lr', 'fast'], /--lr must be a number, got "fast"/],
      [['--top-p', '2'], /--top-p 2 is out of range/],
      [['--lambdas', '0,,1'], /--lambdas must be comma-separated numbers/],
      [['--seq-len', '64'], /--seq-len 64 is out of range: use 1-63/],
    ] as const) {
      const r = await runCli([...BASE, ...SMALL, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    const both = await runCli([...BASE, ...SMALL, '--sum', '1:7:1']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either --layer\/--neuron or --sum/);
    const bad = await runCli([...BASE, '--sum', '1:7:x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--sum term 1 "1:7:x" is not layer:neuron:weight/);
    const expr = await runCli([...BASE, '--objective', 'L1N7 -', '--steps', '1']);
    expect(expr.code).toBe(2);
    expect(expr.stderr).toMatch(/error: --objective: objective "L1N7 -": expected a neuron/);
    const mixed = await runCli([...BASE, ...SMALL, '--objective', 'L1N7']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/either --objective, --layer\/--neuron or --sum/);
    const exprRange = await runCli([...BASE, '--objective', 'L1N7 - 0.5*L1N300', '--steps', '1']);
    expect(exprRange.code).toBe(2);
    expect(exprRange.stderr).toMatch(/--objective term 2: neuron 300 is out of range: each layer has neurons 0-127/);
    const range = await runCli([...BASE, '--sum', '1:7:1,5:3:-0.5', '--steps', '1']);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/--sum term 2: layer 5 is out of range: this model has layers 0-1/);
  });
});

describe('textdream dream: Ctrl-C', () => {
  it('the first SIGINT stops the run after the current step, prints the summary so far and exits 3', async () => {
    const before = process.listenerCount('SIGINT');
    let stdout = '';
    let stderr = '';
    const code = await main([...BASE, '--layer', '1', '--neuron', '7', '--seq-len', '4', '--steps', '100000', '--every', '1', '--method', 'embed', '--json'], {
      stdout: (s) => {
        stdout += s;
        if (stdout.split('\n').length === 3) process.emit('SIGINT'); // after the second record
      },
      stderr: (s) => void (stderr += s),
      env: cleanEnv(),
    });
    expect(code, stderr).toBe(3);
    expect(stderr).toMatch(/interrupted: stopping the dream/);
    expect(process.listenerCount('SIGINT')).toBe(before);
    const lines = stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Line);
    const sum = lines.at(-1) as Extract<Line, { type: 'summary' }>;
    expect(sum.type).toBe('summary');
    expect(sum.stopped).toBe('aborted');
    expect(sum.steps).toBeLessThan(10);
    expect(sum.best).not.toBeNull();
  });
});

describe('textdream dream (text)', () => {
  it('prints the best dream with its tokens, the initial best and the soft-vs-hard note; progress on stderr', async () => {
    const r = await runCli([...BASE, '--sum', '1:7:1.0,0:3:-0.5', '--method', 'embed', '--steps', '4', '--every', '2', '--seq-len', '5', '--batch', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^dream 1·L1N7 \+ -0\.5·L0N3 \(mean over tokens\)/);
    expect(r.stdout).toMatch(/best dream \(#\d, (step \d|one of the initial texts)\): hard value -?\d+\.\d{4} \(mean\) · max .* · CE \d+\.\d{3} nats/);
    expect(r.stdout).toContain('⟦strongest⟧');
    expect(r.stdout).toMatch(/initial best \(#\d\): value/);
    expect(r.stdout).toMatch(/last record \(step 4\): soft .* vs hard mean/);
    expect(r.stdout).toContain('soft values are what the optimiser sees');
    expect(r.stderr).toMatch(/^step 2\/4 {2}soft .* best hard .* \(CE .* nats\)/m);
    expect(r.stderr).toMatch(/^step 4\/4 /m);
  });
});

describe('textdream dream: the experiment store', () => {
  it('saves the run with its records; history finds it by a word of its text', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const db = join(mkdtempSync(join(tmpdir(), 'td-dream-db-')), 'store.db');
    let out = '';
    const code = await main([...BASE, '--layer', '1', '--neuron', '7', '--method', 'embed', '--steps', '4', '--every', '2', '--seq-len', '5', '--batch', '2', '--json', '--db', db], {
      stdout: (s) => void (out += s),
      stderr: () => undefined,
      env: cleanEnv(),
    });
    expect(code).toBe(0);
    const sum = JSON.parse(out.trimEnd().split('\n').at(-1)!) as { runId: string; best: { text: string; value: number } };
    const { openStore } = await import('../src-main/store/open.js');
    const store = openStore(db);
    const run = store.getDreamRun(sum.runId)!;
    expect(run.status).toBe('completed');
    expect(run.records.length).toBe(2);
    expect(run.bestValue).toBeCloseTo(sum.best.value, 5);
    store.close();
    const word = sum.best.text.trim().split(/\s+/).find((w) => /^[A-Za-z]{3,}$/.test(w));
    let hist = '';
    const hcode = await main(['history', '--db', db, '--json', ...(word ? ['--search', word] : [])], { stdout: (s) => void (hist += s), stderr: () => undefined, env: cleanEnv() });
    expect(hcode).toBe(0);
    expect(hist).toContain(sum.runId);
  });
});
