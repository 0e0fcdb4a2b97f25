// `textdream interpolate` in-process on the fixture with a briefly trained autoencoder: the path's ends are the two
// sentences' own reconstructions, each point carries its hard cross-entropy, and --decode picks the decoding.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { ARGMAX_DECODING, FUSED_DECODING, decodeLatents } from '../src-main/ae/decode.js';
import { loadAutoencoder } from '../src-main/ae/files.js';
import { padRows } from '../src-main/ae/sentences.js';
import { measureIds } from '../src-main/dream/hard.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { runCli } from './helpers/cli.js';
import { brownSentences, trainFixtureAE } from './helpers/fixtureAE.js';
import { FIXTURE } from './helpers/shared.js';

const A = 'The jury said it did find that many of the voters were registered.';
const B = 'He smiled at her and walked away.';
const aeDir = join(mkdtempSync(join(tmpdir(), 'td-interp-')), 'k8');
let lm: LoadedModel;

beforeAll(async () => {
  await initBackend('wasm');
  lm = await loadModel(FIXTURE);
  await trainFixtureAE(lm, aeDir, await brownSentences(lm, 8, 64), { steps: 40, lr: 1e-2 });
}, 300_000);
afterAll(() => lm?.model.dispose());

interface Out {
  k: number;
  decoding: { lmWeight: number; topK: number };
  points: { t: number; text: string; ce: number }[];
}

/** The text the autoencoder gives back for a sentence (its first T tokens), decoded as asked. */
async function reconstruction(text: string, decoding: typeof ARGMAX_DECODING): Promise<string> {
  const { ae } = await loadAutoencoder(aeDir, lm.model);
  const row = lm.tokenizer.encode(text).slice(0, ae.shape.T);
  const { ids, lengths } = padRows([row], ae.shape.T, lm.model.config.eosTokenId);
  const z = tf.tidy(() => ae.encode(lm.model, tf.tensor2d(ids, [1, ae.shape.T], 'int32'), lengths));
  const out = await decodeLatents(lm.model, ae, z, decoding);
  z.dispose();
  ae.dispose();
  return lm.tokenizer.decode(out.ids[0].slice(0, out.lengths[0]));
}

describe('textdream interpolate', () => {
  it.each([
    ['argmax', ARGMAX_DECODING],
    ['fused', FUSED_DECODING],
  ] as const)('--decode %s: the ends reconstruct the two sentences and every point has its hard cross-entropy', async (name, decoding) => {
    const r = await runCli(['interpolate', A, B, '--model', FIXTURE, '--backend', 'wasm', '--autoencoder', aeDir, '--points', '3', '--decode', name, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    expect(out.k).toBe(8);
    expect(out.decoding).toEqual(decoding);
    expect(out.points.map((p) => p.t)).toEqual([0, 0.5, 1]);
    expect(out.points[0].text).toBe(await reconstruction(A, decoding));
    expect(out.points[2].text).toBe(await reconstruction(B, decoding));
    const hard = await measureIds(lm.model, lm.tokenizer, neuronTarget(0, 0), out.points.map((p) => lm.tokenizer.encode(p.text)), 'mean');
    out.points.forEach((p, i) => expect(p.ce).toBeCloseTo(hard[i].ce, 4));
  }, 120_000);

  it('refuses an unknown decoding and a missing sentence, with exit 2', async () => {
    const bad = await runCli(['interpolate', A, B, '--model', FIXTURE, '--backend', 'wasm', '--autoencoder', aeDir, '--decode', 'beam']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--decode.*argmax.*fused/);
    const one = await runCli(['interpolate', A, '--model', FIXTURE, '--backend', 'wasm', '--autoencoder', aeDir]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/give two sentences/);
  });
});
