// topWindowsPerUnit (dream/seeded.ts): the top windows of every MLP neuron and of every SAE latent from shared
// forward passes, checked against each window measured on its own by the hard evaluator (measureIds, max over the
// free tokens) for neurons and latents alike.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { measureIds } from '../src-main/dream/hard.js';
import { neuronTarget, saeLatentTarget } from '../src-main/dream/objectives.js';
import { neuronGroup, topWindowsPerUnit } from '../src-main/dream/seeded.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { loadSae, type Sae } from '../src-main/sae/load.js';
import { writeJumpReluSae } from './helpers/sae.js';
import { FIXTURE } from './helpers/shared.js';

let lm: LoadedModel;
let sae: Sae;
let tmp: string;
const HOOK = 'blocks.1.hook_resid_pre';

beforeAll(async () => {
  await initBackend('wasm');
  lm = await loadModel(FIXTURE);
  tmp = await mkdtemp(join(tmpdir(), 'textdream-top-windows-'));
  await writeJumpReluSae(tmp, { dIn: lm.model.config.dModel, dSae: 12, hook: HOOK, seed: 4, threshold: 0.05 });
  sae = await loadSae(tmp);
});
afterAll(async () => {
  sae?.dispose();
  lm?.model.dispose();
  await rm(tmp, { recursive: true, force: true });
});

it('finds each neuron\'s and each latent\'s best windows, with the values the hard evaluator measures', async () => {
  const ids = lm.tokenizer.encode('The committee met on Tuesday to discuss the budget. Rain fell all night on the old town, and the river rose above the bridge. She opened the letter slowly and laughed.');
  const windows = Array.from({ length: Math.floor(ids.length / 5) }, (_, i) => ({ ids: ids.slice(5 * i, 5 * i + 5), docId: `w${i}` }));
  const latents = { name: 'sae', hooks: [HOOK], read: (cache: Map<string, import('@tensorflow/tfjs-core').Tensor>) => sae.encode(cache.get(HOOK)!) };
  // batch 3: several batches, so the running top lists merge across them
  const top = await topWindowsPerUnit(lm.model, windows, [neuronGroup(0), neuronGroup(1), latents], 2, 3);
  expect(top.size).toBe(2 * lm.model.config.dMlp + 12);
  const check = async (key: string, target: Parameters<typeof measureIds>[2]) => {
    const all = await measureIds(lm.model, lm.tokenizer, target, windows.map((w) => w.ids), 'max');
    const order = all.map((e, i) => ({ i, v: e.value })).sort((a, b) => b.v - a.v);
    const got = top.get(key)!;
    expect(got.map((g) => g.index)).toEqual(order.slice(0, 2).map((o) => o.i));
    got.forEach((g, k) => expect(g.value).toBeCloseTo(order[k]!.v, 4));
  };
  for (const n of [0, 7, 100]) await check(`1:${n}`, neuronTarget(1, n));
  await check('0:3', neuronTarget(0, 3));
  for (const l of [0, 5, 11]) await check(`sae:${l}`, saeLatentTarget(sae, l));
});
