// The transformer judge (readability/modelJudge.ts, `--judge-model`): its log-probabilities against Hugging Face
// transformers' losses and against the model's full logits, and its percentile calibration on held-out text.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { loadCorpus } from '../src-main/corpus/documents.js';
import { defaultModelDir, loadModel, projectRoot, type LoadedModel } from '../src-main/model/load.js';
import { sampleWindows } from '../src-main/readability/calibration.js';
import { loadModelJudge, meanLogProbs, ModelJudge, MODEL_JUDGE_WINDOWS } from '../src-main/readability/modelJudge.js';
import { readabilitySplits } from '../src-main/readability/splits.js';
import { runCli } from './helpers/cli.js';
import { expected, FIXTURE } from './helpers/shared.js';

const reference = JSON.parse(readFileSync(join(projectRoot(), 'test', 'fixtures', 'hf-reference-losses.json'), 'utf8')) as {
  models: Record<string, { text: string; ids: number[]; lossHF: number }[]>;
};

let shipped: LoadedModel;
let fixture: LoadedModel;
beforeAll(async () => {
  await initBackend('wasm');
  shipped = await loadModel(defaultModelDir());
  fixture = await loadModel(FIXTURE);
});
afterAll(() => {
  shipped?.model.dispose();
  fixture?.model.dispose();
});

describe('meanLogProbs', () => {
  it('without a prefix is minus transformers\' next-token loss, rows of different lengths batched together', async () => {
    const texts = reference.models['resources/models/textdream-gpt2-small'];
    expect(texts.length).toBeGreaterThan(1);
    const got = await meanLogProbs(shipped.model, texts.map((t) => t.ids), null);
    texts.forEach((t, i) => expect(Math.abs(got[i] + t.lossHF), t.text).toBeLessThan(1e-4));
    // And the fixture's loss, computed in float64 by an implementation of its own.
    const [fox] = await meanLogProbs(fixture.model, [expected.tokens.fox.ids], null);
    expect(Math.abs(fox + expected.loss_fox)).toBeLessThan(1e-4);
  });

  it('with the <|endoftext|> prefix is the mean of every token\'s log-softmax from the full logits', async () => {
    const rows = [fixture.tokenizer.encode(' The fox jumped over the lazy dog.'), fixture.tokenizer.encode(' A cat')];
    const bos = fixture.config.bosTokenId;
    const got = await meanLogProbs(fixture.model, rows, bos, 2);
    for (const [i, r] of rows.entries()) {
      const logp = tf.tidy(() => tf.logSoftmax(fixture.model.run({ ids: tf.tensor2d([[bos, ...r]], [1, r.length + 1], 'int32') }).logits!).arraySync()) as number[][][];
      const want = r.reduce((s, id, t) => s + logp[0][t][id], 0) / r.length;
      expect(Math.abs(got[i] - want)).toBeLessThan(1e-4);
    }
    // A lone token has nothing to predict without the prefix.
    expect((await meanLogProbs(fixture.model, [[rows[1][0]]], null))[0]).toBeNaN();
  });
});

describe('ModelJudge', () => {
  it('puts fresh held-out windows near the 50th percentile and word salad people rated 1 in the bottom 5', async () => {
    const docs = readabilitySplits(await loadCorpus('brown+sotu')).heldOut.map((d) => shipped.tokenizer.encode(d.text));
    const judge = new ModelJudge('shipped', shipped.model, shipped.tokenizer, shipped.tokenizer, docs);
    // Windows drawn with another seed than the reference's: as real text, they should sit anywhere, median near 50.
    const fresh = sampleWindows(docs, 10, 10, 100, MODEL_JUDGE_WINDOWS.seed + 1000).get(10)!.map((w) => shipped.tokenizer.decode(w));
    const p = (await judge.judge(fresh)).map((j) => j.percentile).sort((a, b) => a - b);
    expect(p[50]).toBeGreaterThan(35);
    expect(p[50]).toBeLessThan(65);
    const [salad] = await judge.judge([' Illusion An favorable Supremeotent Hot latter']);
    expect(salad.model).toBe('shipped');
    expect(salad.percentile).toBeLessThan(5);
  }, 120_000);

  it('loadModelJudge names --judge-model in the fix for a folder that does not exist', async () => {
    await expect(loadModelJudge(join(projectRoot(), 'no-such-model'), shipped.tokenizer, [shipped.tokenizer.encode('x')])).rejects.toThrow(/folder does not exist\. Fix: check the path passed to --judge-model/);
  });
});

describe('textdream dream --judge-model', () => {
  const BASE = ['dream', '--model', FIXTURE, '--backend', 'wasm', '--db', ':memory:'];
  it('refuses an empty value or a target without a held-out maximum, and a bad folder before the run', async () => {
    const empty = await runCli([...BASE, '--layer', '1', '--neuron', '7', '--judge-model', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--judge-model is empty/);
    const sum = await runCli([...BASE, '--sum', '1:7:1', '--judge-model', FIXTURE]);
    expect(sum.code).toBe(2);
    expect(sum.stderr).toMatch(/--judge-model judges the dreams that beat a neuron's held-out maximum/);
    const missing = await runCli([...BASE, '--layer', '1', '--neuron', '7', '--steps', '2', '--judge-model', join(projectRoot(), 'no-such-model'), '--json']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no-such-model: folder does not exist\. Fix: check the path passed to --judge-model/);
    expect(missing.stdout).toBe('');
  });

  it('judges the dreams that beat the maximum and shows them in its order', async () => {
    const r = await runCli([...BASE, '--layer', '1', '--neuron', '7', '--method', 'seeded', '--steps', '3', '--seq-len', '8', '--judge-model', FIXTURE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as {
      judgeModel: { model: string; judgements: { text: string; percentile: number; logProb: number }[] };
      readableVerdict: { beats: { text: string; origin?: { edits: number } } | null; others: { text: string; origin?: { edits: number } }[] };
    };
    expect(summary.judgeModel.model).toBe(FIXTURE);
    const shown = [summary.readableVerdict.beats, ...summary.readableVerdict.others].filter((d) => d !== null);
    // Seed 1 on the fixture's neuron: one edited seed beats the maximum (ordering among several: readability-parts.test.ts).
    expect(shown.length).toBeGreaterThan(0);
    expect(summary.judgeModel.judgements.length).toBeGreaterThanOrEqual(shown.length);
    const pct = new Map(summary.judgeModel.judgements.map((j) => [j.text, j.percentile]));
    for (const d of shown) expect(pct.has(d.text), d.text).toBe(true);
    for (const j of summary.judgeModel.judgements) {
      expect(j.percentile).toBeGreaterThanOrEqual(0);
      expect(j.percentile).toBeLessThanOrEqual(100);
      expect(j.logProb).toBeLessThan(0);
    }
    // Fewer edits first, then the judge model's percentile.
    for (let i = 1; i < shown.length; i++) {
      const a = shown[i - 1], b = shown[i];
      const ea = a.origin?.edits ?? 0, eb = b.origin?.edits ?? 0;
      expect(ea < eb || (ea === eb && pct.get(a.text)! >= pct.get(b.text)!)).toBe(true);
    }
  }, 300_000);
});
