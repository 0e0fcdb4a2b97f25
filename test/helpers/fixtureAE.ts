// A small sentence autoencoder for the fixture model, trained for a few steps on real Brown sentences and saved,
// so that `--method latent` can run wherever the fixture does.
import { loadCorpus } from '../../src-main/corpus/documents.js';
import { modelFingerprint, saveAutoencoder } from '../../src-main/ae/files.js';
import { fitResidualHeads } from '../../src-main/ae/residualHeads.js';
import { sentenceRows } from '../../src-main/ae/sentences.js';
import { AETrainer, type TrainAEOptions } from '../../src-main/ae/train.js';
import type { LoadedModel } from '../../src-main/model/load.js';

export function fixtureAEOptions(over: Partial<TrainAEOptions> = {}): TrainAEOptions {
  return {
    shape: { k: 8, T: 8, dModel: 32, nHead: 4, dMlp: 64, encLayers: 1, decLayers: 1, residLayers: [1], logits: 'dot', pool: 'flatten' },
    batch: 16,
    steps: 30,
    lr: 5e-3,
    warmupSteps: 5,
    minLrFraction: 0.1,
    weightDecay: 0.01,
    clipNorm: 1,
    seed: 5,
    noise: 0.1,
    embedWeight: 1,
    candidates: 512,
    mixNearest: 0,
    padWeight: 0.1,
    evalEvery: 1000,
    evalSentences: 16,
    checkpointEvery: 1000,
    logEvery: 1000,
    ...over,
  };
}

/** Sentences of 3-T tokens from the first Brown documents. */
export async function brownSentences(lm: LoadedModel, T: number, n: number): Promise<number[][]> {
  const docs = (await loadCorpus('brown')).slice(0, 6);
  return sentenceRows(docs, lm.tokenizer, T, 3).rows.slice(0, n);
}

/** Train on `rows`, fit the residual heads, and write the autoencoder to `dir`. */
export async function trainFixtureAE(lm: LoadedModel, dir: string, rows: number[][], over: Partial<TrainAEOptions> = {}): Promise<void> {
  const o = fixtureAEOptions(over);
  const tr = new AETrainer(lm.model, o, `${dir}.work`);
  await tr.init(rows, () => {});
  await tr.train(rows, rows, () => {});
  await fitResidualHeads(lm.model, tr.ae, rows, rows);
  await saveAutoencoder(tr.ae, dir, { model: await modelFingerprint(lm.model), training: { test: true, steps: o.steps }, metrics: {} });
  tr.dispose();
}
