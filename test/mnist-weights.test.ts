// The shipped MNIST weights (resources/mnist): accuracy on the held-out digits, the autoencoder's reconstruction,
// that the judge is a different network, and loud failures for damaged files.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { ModelFileError } from '../src-main/model/errors.js';
import { writeSafetensorsFile } from '../src-main/model/safetensors.js';
import { loadSplit, type Split } from '../src-main/mnist/data.js';
import type { MnistModels } from '../src-main/mnist/dream.js';
import { defaultMnistDir, disposeMnistModels, loadMnistModels, netFile } from '../src-main/mnist/models.js';
import { loadNet } from '../src-main/mnist/nets.js';
import { accuracy, meanReconstructionError, predictions } from '../src-main/mnist/train.js';

let models: MnistModels;
let split: Split;
beforeAll(async () => {
  expect((await initBackend('wasm')).name).toBe('wasm');
  models = await loadMnistModels();
  split = await loadSplit();
});
afterAll(() => models && disposeMnistModels(models));

describe('shipped MNIST weights on the held-out 15 %', () => {
  it('the classifier is at least 98 % accurate', () => {
    const acc = accuracy(models.classifier, split.heldOut);
    console.log(`classifier held-out accuracy ${(100 * acc).toFixed(2)} % on ${split.heldOut.count} digits`);
    expect(acc).toBeGreaterThanOrEqual(0.98);
    expect(models.classifier.meta.heldOutAccuracy).toBe(acc.toFixed(6)); // the card's number is this number
  });

  it('the judge is accurate too, and a different network: it disagrees with the classifier on some digits', () => {
    const acc = accuracy(models.judge, split.heldOut);
    console.log(`judge held-out accuracy ${(100 * acc).toFixed(2)} %`);
    expect(acc).toBeGreaterThanOrEqual(0.97);
    const a = predictions(models.classifier, split.heldOut);
    const b = predictions(models.judge, split.heldOut);
    expect(a.some((p, i) => p !== b[i])).toBe(true);
    expect(models.judge.meta.seed).not.toBe(models.classifier.meta.seed);
  });

  it('the autoencoder reconstructs held-out digits far better than a blank image would', () => {
    const mse = meanReconstructionError(models.autoencoder, split.heldOut);
    let blank = 0;
    for (const v of split.heldOut.images) blank += v * v;
    blank /= split.heldOut.images.length;
    console.log(`autoencoder held-out reconstruction MSE ${mse.toFixed(4)} (an all-black guess: ${blank.toFixed(4)})`);
    expect(mse).toBeLessThan(0.25 * blank);
    expect(Number(models.autoencoder.meta.heldOutMSE)).toBeCloseTo(mse, 4);
  });
});

describe('damaged weight files fail with the file named', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'textdream-mnist-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a missing file says how to make it', async () => {
    await expect(loadMnistModels(dir)).rejects.toThrow(/train-mnist/);
  });

  it('a wrong shape or a foreign file is refused', async () => {
    const bad = join(dir, 'classifier.safetensors');
    await writeSafetensorsFile(bad, [{ name: 'conv1.weight', shape: [2], data: new Float32Array(2), dtype: 'F32' }]);
    await expect(loadNet('classifier', bad)).rejects.toThrow(ModelFileError);
    await copyFile(netFile(defaultMnistDir(), 'judge'), bad);
    await expect(loadNet('classifier', bad)).rejects.toThrow(/shape|judge/);
  });
});
