// An SAE latent as a dreaming target (dream/objectives.ts saeLatentTarget), on the fixture model with a small
// JumpReLU SAE written here: judged on the real activation (checked against the encoding done by hand from the
// hook's activations), climbed on the pre-activation; and `latent − 0.5·neuron` composed by weightedSumTarget, whose
// value and gradient equal the weighted sum of its terms', the gradient also against finite differences.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { rng } from '../src-main/corpus/rng.js';
import { neuronTarget, saeLatentTarget, targetObjective, weightedSumTarget, type Target } from '../src-main/dream/objectives.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { loadSae, type Sae } from '../src-main/sae/load.js';
import { FIXTURE } from './helpers/shared.js';
import { writeJumpReluSae } from './helpers/sae.js';
import { runCli } from './helpers/cli.js';
import { measureTexts } from '../src-main/dream/hard.js';
import { dreamToEnd, runDream } from '../src-main/dream/run.js';

let lm: LoadedModel;
let sae: Sae;
let tmp: string;
const D_SAE = 16;
const HOOK = 'blocks.1.hook_resid_pre';
const IDS = [464, 2068, 7586, 21831, 18045, 625, 262, 16931];

beforeAll(async () => {
  expect((await initBackend('wasm')).name).toBe('wasm');
  lm = await loadModel(FIXTURE);
  const d = lm.model.config.dModel;
  tmp = await mkdtemp(join(tmpdir(), 'textdream-sae-objective-'));
  await writeJumpReluSae(tmp, { dIn: d, dSae: D_SAE, hook: HOOK, seed: 11 });
  sae = await loadSae(tmp);
});
afterAll(async () => {
  sae?.dispose();
  lm?.model.dispose();
  await rm(tmp, { recursive: true, force: true });
});

/** [T] values of a target's per-token activation (soft or judged) on IDS. */
function perToken(target: Target, soft: boolean): number[] {
  return tf.tidy(() => {
    const run = lm.model.run({ ids: tf.tensor2d([IDS], [1, IDS.length], 'int32') }, { hooks: target.hooks });
    const f = soft && target.perTokenSoft ? target.perTokenSoft : target.perToken;
    return Array.from(f.call(target, run.cache).dataSync());
  });
}

it('judges a latent on its thresholded activation and climbs its pre-activation, as encoded by hand', async () => {
  const latent = 5;
  const target = saeLatentTarget(sae, latent);
  expect(target.hooks).toEqual([HOOK]);
  // By hand from the hook's activations and the weights as written: pre = (x − b_dec)·W_enc[:, latent] + b_enc[latent].
  const [x, W, b, bd] = tf.tidy(() => {
    const run = lm.model.run({ ids: tf.tensor2d([IDS], [1, IDS.length], 'int32') }, { hooks: [HOOK] });
    return [run.cache.get(HOOK)!.arraySync() as number[][][], sae.weights.W_enc.arraySync() as number[][], sae.weights.b_enc.arraySync() as number[], sae.weights.b_dec.arraySync() as number[]];
  });
  const pre = x[0].map((row) => row.reduce((a, v, i) => a + (v - bd[i]) * W[i][latent], b[latent]));
  const soft = perToken(target, true);
  const judged = perToken(target, false);
  pre.forEach((p, t) => {
    expect(soft[t]).toBeCloseTo(p, 4);
    expect(judged[t]).toBeCloseTo(p > 0.2 ? p : 0, 4);
  });
  // The fixture and seed give both sides of the threshold, so the two really differ somewhere.
  expect(pre.some((p) => p > 0.2)).toBe(true);
  expect(pre.some((p) => p <= 0.2)).toBe(true);
  expect(() => saeLatentTarget(sae, D_SAE)).toThrow(/latent 16 is out of range: the SAE at .* has latents 0-15/);
});

it('latent − 0.5·neuron: value and gradient equal the weighted sum of its terms, the gradient also by finite differences', () => {
  const latent = saeLatentTarget(sae, 5);
  const neuron = neuronTarget(1, 7);
  const composed = targetObjective(weightedSumTarget([{ target: latent, weight: 1 }, { target: neuron, weight: -0.5 }]), { reduce: 'mean' });
  const parts = [targetObjective(latent, { reduce: 'mean' }), targetObjective(neuron, { reduce: 'mean' })];
  expect(composed.hooks.sort()).toEqual([HOOK, 'blocks.1.mlp.hook_post'].sort());
  const embeds = tf.tidy(() => lm.model.embed(tf.tensor2d([IDS], [1, IDS.length], 'int32')));
  const valueOf = (o: typeof composed) => (e: tf.Tensor) => {
    const run = lm.model.run({ embeds: e as tf.Tensor3D }, { hooks: o.hooks });
    return tf.sum(o.value({ cache: run.cache })) as tf.Scalar;
  };
  const [vC, gC] = tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad(valueOf(composed))(embeds);
    return [value.dataSync()[0], grad.arraySync() as number[][][]];
  });
  const terms = parts.map((o) =>
    tf.tidy(() => {
      const { value, grad } = tf.valueAndGrad(valueOf(o))(embeds);
      return { v: value.dataSync()[0], g: grad.arraySync() as number[][][] };
    }),
  );
  expect(vC).toBeCloseTo(terms[0].v - 0.5 * terms[1].v, 5);
  gC[0].forEach((row, t) => row.forEach((g, i) => expect(g).toBeCloseTo(terms[0].g[0][t][i] - 0.5 * terms[1].g[0][t][i], 5)));
  // Finite differences along a random direction (central, float32: a loose but real check).
  const rand = rng(3);
  const dir = tf.tensor3d(Float32Array.from({ length: embeds.size }, () => rand() * 2 - 1), embeds.shape as [number, number, number]);
  const h = 1e-2;
  const f = (s: number) => tf.tidy(() => valueOf(composed)(tf.add(embeds, tf.mul(dir, s))).dataSync()[0]);
  const numeric = (f(h) - f(-h)) / (2 * h);
  const dirData = dir.arraySync() as number[][][];
  const analytic = gC[0].reduce((a, row, t) => a + row.reduce((b, g, i) => b + g * dirData[0][t][i], 0), 0);
  expect(Math.abs(numeric - analytic)).toBeLessThan(0.02 * Math.max(1, Math.abs(analytic)));
  tf.dispose([embeds, dir]);
});

it('dreams for an SAE latent through the CLI: every reported value is the latent\'s real activation, re-measured from the text', async () => {
  const r = await runCli(['dream', '--model', FIXTURE, '--backend', 'wasm', '--objective', `sae:${tmp}:5`, '--method', 'fluent', '--steps', '4', '--every', '2', '--seq-len', '6', '--candidates', '4', '--lambdas', '0', '--json', '--db', ':memory:']);
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!);
  expect(summary.config.target).toEqual({ kind: 'sae', sae: tmp, latent: 5 });
  const dreams = [summary.best, ...summary.initial];
  const again = await measureTexts(lm.model, lm.tokenizer, saeLatentTarget(sae, 5), dreams.map((d: { text: string }) => d.text), 'mean');
  dreams.forEach((d: { value: number; text: string }, i: number) => expect(Math.abs(again[i].value - d.value), d.text).toBeLessThan(1e-4));
  expect(summary.best.value).toBeGreaterThanOrEqual(Math.max(...summary.initial.map((d: { value: number }) => d.value)));
});

it('refuses an SAE for another model, a latent out of range and a missing folder, naming the fix', async () => {
  const run = (latent: number, sae = tmp) => dreamToEnd(runDream({ model: lm.model, tokenizer: lm.tokenizer }, { target: { kind: 'sae', sae, latent }, method: 'embed', steps: 1, seqLen: 4 }));
  await expect(run(99)).rejects.toThrow(/latent 99 is out of range: the SAE at .* has latents 0-15/);
  await expect(run(1, join(tmp, 'nope'))).rejects.toThrow(/nope/);
  await expect(run(1, 'L1.resid_pre')).rejects.toThrow(/names an SAE beside the model, but this model has no folder/);
  const r = await runCli(['dream', '--model', FIXTURE, '--backend', 'wasm', '--objective', `sae:${tmp}:1 + L1N99999`, '--steps', '1']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/neuron 99999 is out of range/);
  const bad = await runCli(['dream', '--model', FIXTURE, '--backend', 'wasm', '--objective', 'sae:my folder:1', '--steps', '1']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/write an SAE latent as sae:<L<layer>\.<site> or a folder without spaces or colons>:<latent>/);
});

it('latent − 0.5·neuron through the CLI: the composed target is stored, and every reported value re-measures as the weighted sum', async () => {
  const r = await runCli(['dream', '--model', FIXTURE, '--backend', 'wasm', '--objective', `sae:${tmp}:5 - 0.5*L1N7`, '--method', 'fluent', '--steps', '4', '--every', '2', '--seq-len', '6', '--candidates', '4', '--lambdas', '0', '--json', '--db', ':memory:']);
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!);
  expect(summary.config.target).toEqual({ kind: 'sum', terms: [{ layer: 1, neuron: 7, weight: -0.5 }], latents: [{ sae: tmp, latent: 5, weight: 1 }] });
  const composed = weightedSumTarget([{ target: saeLatentTarget(sae, 5), weight: 1 }, { target: neuronTarget(1, 7), weight: -0.5 }]);
  const dreams = [summary.best, ...summary.initial];
  const again = await measureTexts(lm.model, lm.tokenizer, composed, dreams.map((d: { text: string }) => d.text), 'mean');
  dreams.forEach((d: { value: number; text: string }, i: number) => expect(Math.abs(again[i].value - d.value), d.text).toBeLessThan(1e-4));
});
