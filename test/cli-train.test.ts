// `textdream train-lm` and `eval-lm` in-process on a tiny shape: export, load, resume, stop early, evaluate.
// The corpus is tokenised once into a temporary work folder (the project's .cache is never touched).
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src-main/cli/main.js';
import { loadModel } from '../src-main/model/load.js';
import { cleanEnv, runCli } from './helpers/cli.js';
import { modelSamples, summariseSamples } from '../src-main/cli/commands/eval-lm.js';
import { repetition, textWords } from '../src-main/readability/repetition.js';

let tmp: string;
let work: string;
let out: string;
const TINY = ['--backend', 'wasm', '--corpus', 'sotu', '--layers', '1', '--d-model', '16', '--heads', '2', '--context', '16', '--batch', '2'];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'textdream-train-'));
  work = join(tmp, 'work');
  out = join(tmp, 'out');
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('textdream train-lm', () => {
  it('trains a tiny model, exports it in Hugging Face layout, and the export loads', async () => {
    const r = await runCli(['train-lm', ...TINY, '--steps', '4', '--work', work, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/native TensorFlow backend is not available .* the one sized for wasm/);
    expect(r.stderr).toMatch(/step 4\/4 loss \d/);
    expect(r.stdout).toContain(`trained 4/4 steps; model written to ${out}`);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(work, 'train.log'))).toBe(true);
    const lm = await loadModel(out);
    try {
      expect(lm.config).toMatchObject({ nLayer: 1, dModel: 16, nHead: 2, dMlp: 64, nPositions: 16, vocabSize: 50257 });
      expect(lm.unexpected).toEqual([]);
    } finally {
      lm.model.dispose();
    }
  });

  it('a second run with more steps resumes from the checkpoint', async () => {
    const r = await runCli(['train-lm', ...TINY, '--steps', '6', '--work', work, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resumed from .* at step 4/);
    expect(r.stderr).not.toMatch(/step [1-4]\/6/);
    const j = JSON.parse(r.stdout) as { completed: boolean; step: number; steps: number; out: string };
    expect(j).toMatchObject({ completed: true, step: 6, steps: 6, out });
    const state = JSON.parse(readFileSync(join(work, 'checkpoint', 'state.json'), 'utf8')) as { step: number };
    expect(state.step).toBe(6);
  });

  it('refuses a checkpoint of another shape and bad shape flags, with exit 2', async () => {
    const other = await runCli(['train-lm', ...TINY, '--d-model', '32', '--steps', '8', '--work', work, '--out', join(tmp, 'other')]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/error: --work .* holds a checkpoint \(step 6\) of another shape/);
    const heads = await runCli(['train-lm', ...TINY, '--heads', '3', '--work', work, '--out', out]);
    expect(heads.code).toBe(2);
    expect(heads.stderr).toMatch(/error: --heads 3 must divide --d-model 16/);
    const corpus = await runCli(['train-lm', '--corpus', 'nope', '--work', work, '--out', out]);
    expect(corpus.code).toBe(2);
    expect(corpus.stderr).toMatch(/error: --corpus must be one of brown, sotu, brown\+sotu/);
  });

  it('stops early on Ctrl-C with a checkpoint, exit 3 and how to resume', async () => {
    const work2 = join(tmp, 'work2');
    await cp(join(work, 'tokens'), join(work2, 'tokens'), { recursive: true }); // no second tokenisation
    const before = process.listenerCount('SIGINT');
    let stderr = '';
    let sent = false;
    const code = await main(['train-lm', ...TINY, '--steps', '100000', '--work', work2, '--out', join(tmp, 'out2')], {
      stdout: () => undefined,
      stderr: (s) => {
        stderr += s;
        if (!sent && /held-out \d+ tokens/.test(s)) {
          sent = true;
          process.emit('SIGINT');
        }
      },
      env: cleanEnv(),
    });
    expect(code, stderr).toBe(3);
    expect(stderr).toMatch(/stop requested: checkpointing/);
    expect(stderr).toMatch(/stopped early at step \d+\/100000; to resume, run the same command again/);
    expect(existsSync(join(work2, 'checkpoint', 'state.json'))).toBe(true);
    expect(existsSync(join(tmp, 'out2'))).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});

describe('textdream eval-lm', () => {
  it('--json: model and bigram perplexity on the same held-out targets, dead-neuron fraction', async () => {
    const r = await runCli(['eval-lm', '--model', out, '--backend', 'wasm', '--corpus', 'sotu', '--work', work, '--max-tokens', '256', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      modelSpec: string;
      backend: string;
      heldOutTokens: number;
      model: { perplexity: number; natsPerToken: number };
      bigram: { perplexity: number; k: number };
      perplexityReduction: number;
      deadNeurons: { perLayer: number[]; fraction: number };
    };
    expect(j.modelSpec).toBe(out);
    expect(j.backend).toBe('wasm');
    expect(j.heldOutTokens).toBeGreaterThanOrEqual(256);
    expect(Number.isFinite(j.model.perplexity) && j.model.perplexity > 1).toBe(true);
    expect(Number.isFinite(j.bigram.perplexity) && j.bigram.perplexity > 1).toBe(true);
    expect(j.perplexityReduction).toBeCloseTo(1 - j.model.perplexity / j.bigram.perplexity, 10);
    expect(j.deadNeurons.perLayer).toHaveLength(1);
    expect(j.deadNeurons.fraction).toBeGreaterThanOrEqual(0);
    expect(j.deadNeurons.fraction).toBeLessThanOrEqual(1);
  });

  it('text mode: both perplexities, the reduction, dead neurons per layer, and --samples generations', async () => {
    const r = await runCli(['eval-lm', '--model', out, '--backend', 'wasm', '--corpus', 'sotu', '--work', work, '--max-tokens', '256', '--samples', '--sample-seed', '7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^perplexity {2}model +\d+\.\d\d {2}\(\d+\.\d{4} nats\/token\)$/m);
    expect(r.stdout).toMatch(/^ +bigram +\d+\.\d\d {2}\(.*k=/m);
    expect(r.stdout).toMatch(/^reduction +-?\d+\.\d %/m);
    expect(r.stdout).toMatch(/^dead MLP neurons .*: L0 \d+\.\d %; all layers \d+\.\d %$/m);
    // a greedy generation per prompt, then 20 top-p samples with seeds 7-26, prompts in turn; each with its stats
    const samples = r.stdout.split('\n').filter((l) => /^ {2}(greedy|seed \d+) +d2 /.test(l));
    expect(samples).toHaveLength(23);
    const prompts = ['The', 'In the', 'It is'];
    for (const [i, p] of prompts.entries()) expect(samples[i]).toMatch(new RegExp(`^  greedy +d2 (\\d\\.\\d\\d| -  ) rep +\\d+  "?${p}`));
    for (let i = 0; i < 20; i++) expect(samples[3 + i]).toMatch(new RegExp(`^  seed ${i + 7} +d2 (\\d\\.\\d\\d| -  ) rep +\\d+  "?${prompts[i % 3]}`));
    expect(r.stdout).toMatch(/^top-p samples: mean distinct-2 \d\.\d{3}, median largest repeat \d+(\.5)?, worst \d+$/m);
  });

  it('modelSamples: seeds from the given one, stats recomputed from each continuation, deterministic', async () => {
    const lm = await loadModel(out);
    try {
      const samples = modelSamples(lm.model, lm.tokenizer, { seed: 7, count: 4, maxNewTokens: 12 });
      expect(samples.map((s) => [s.mode, s.prompt, s.seed])).toEqual([
        ['greedy', 'The', null], ['greedy', 'In the', null], ['greedy', 'It is', null],
        ['top-p', 'The', 7], ['top-p', 'In the', 8], ['top-p', 'It is', 9], ['top-p', 'The', 10],
      ]);
      for (const s of samples) {
        expect(s.text.startsWith(s.prompt)).toBe(true);
        expect(s.newTokens).toBeGreaterThan(0);
        expect(s.newTokens).toBeLessThanOrEqual(12);
        const continuation = s.text.slice(s.prompt.length);
        const r = repetition(continuation);
        if (textWords(continuation).length < 2) expect(s.distinct2).toBeNaN();
        else expect(s.distinct2).toBeCloseTo(r.distinct2, 12);
        expect(s.maxRepeat).toBe(r.maxWordCount);
      }
      const summary = summariseSamples(samples);
      expect(summary.worstMaxRepeat).toBe(Math.max(...samples.slice(3).map((s) => s.maxRepeat)));
      expect(modelSamples(lm.model, lm.tokenizer, { seed: 7, count: 4, maxNewTokens: 12 })).toEqual(samples);
    } finally {
      lm.model.dispose();
    }
  });

  it('--sample-seed without --samples is refused', async () => {
    const r = await runCli(['eval-lm', '--model', out, '--backend', 'wasm', '--sample-seed', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sample-seed needs --samples/);
  });
});
