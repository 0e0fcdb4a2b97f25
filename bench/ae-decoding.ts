// bench/ae-decoding: how a sentence autoencoder's latents become text, argmax against fused with the language model
// (ae/decode.ts) at several λ: held-out reconstruction token accuracy, and the cross-entropy under the model of the
// decoded points between held-out sentences (the protocol of test/ae-default.test.ts: seed 17, a 300-sentence
// corpus median, 4 pairs, 3 interior points each). Prints one JSON object on stdout; progress on stderr.
//   npx tsx bench/ae-decoding.ts [--model dir] [--k 32 | --autoencoder dir | --checkpoint dir] [--lambdas 0,0.5,1,2] [--topk 8] [--sentences 2746]
// --checkpoint reads a training checkpoint (train-ae's work folder/checkpoint), to choose λ while training runs.
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import { ARGMAX_DECODING, type LatentDecoding } from '../src-main/ae/decode.js';
import { autoencoderDirFor, loadAutoencoder } from '../src-main/ae/files.js';
import { interiorCrossEntropies, interpolationCheckSample, medianCrossEntropy } from '../src-main/ae/interpolate.js';
import { aeInitialValues, SentenceAE, type AEShape } from '../src-main/ae/model.js';
import { sentenceRows } from '../src-main/ae/sentences.js';
import { reconstructionAccuracy } from '../src-main/ae/train.js';
import { loadCorpus } from '../src-main/corpus/documents.js';
import { rng, shuffle } from '../src-main/corpus/rng.js';
import { splitDocuments } from '../src-main/corpus/split.js';
import { defaultModelDir, loadModel } from '../src-main/model/load.js';
import { readCheckpoint } from '../src-main/train/checkpoint.js';
import { LM_SPLIT } from '../src-main/train/lmCorpus.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    k: { type: 'string', default: '32' },
    autoencoder: { type: 'string' },
    checkpoint: { type: 'string' },
    lambdas: { type: 'string', default: '0,0.5,1,2' },
    topk: { type: 'string', default: '8' },
    sentences: { type: 'string' },
  },
});
const log = (s: string) => process.stderr.write(s + '\n');
const backend = await initBackend(process.env.TEXTDREAM_BACKEND ?? 'auto');
const modelDir = values.model ?? defaultModelDir();
const lm = await loadModel(modelDir);

async function fromCheckpoint(dir: string): Promise<SentenceAE> {
  const saved = await readCheckpoint<{ step: number; options: { shape: AEShape; seed: number } }>(dir);
  if (!saved) throw new Error(`no checkpoint in ${dir}: give train-ae's work folder's checkpoint/ subfolder`);
  const init = aeInitialValues(saved.state.options.shape, saved.state.options.seed);
  for (const [k, t] of saved.params) init.set(k, t.data);
  log(`checkpoint ${dir} at step ${saved.state.step}`);
  return new SentenceAE(saved.state.options.shape, init, false);
}
const source = values.checkpoint ?? values.autoencoder ?? autoencoderDirFor(modelDir, Number(values.k));
const ae = values.checkpoint ? await fromCheckpoint(values.checkpoint) : (await loadAutoencoder(source, lm.model)).ae;

const docs = splitDocuments(await loadCorpus('brown+sotu'), LM_SPLIT).heldOut;
const heldOut = sentenceRows(docs, lm.tokenizer, ae.shape.T, 4).rows;
const evalRows = values.sentences ? shuffle(heldOut, rng(3)).slice(0, Number(values.sentences)) : heldOut;

const { medianRows, pairs } = interpolationCheckSample(heldOut);
const corpusMedian = await medianCrossEntropy(lm.model, lm.tokenizer, medianRows);

const rows = [];
for (const lambda of values.lambdas.split(',').map(Number)) {
  const decoding: LatentDecoding = lambda > 0 ? { lmWeight: lambda, topK: Number(values.topk) } : ARGMAX_DECODING;
  const t0 = performance.now();
  const acc = await reconstructionAccuracy(lm.model, ae, evalRows, decoding);
  const interior = await interiorCrossEntropies(lm.model, lm.tokenizer, ae, pairs, decoding);
  const meanCE = interior.reduce((s, p) => s + p.ce, 0) / interior.length;
  const row = { lambda, topK: decoding.topK, accuracy: acc.accuracy, exact: acc.exact, interpolationCE: meanCE, aboveMedian: meanCE - corpusMedian, seconds: (performance.now() - t0) / 1000, interior };
  log(`λ ${lambda}: accuracy ${(100 * acc.accuracy).toFixed(1)} %, interpolation CE ${meanCE.toFixed(2)} (${(meanCE - corpusMedian).toFixed(2)} above the median), ${row.seconds.toFixed(0)} s`);
  rows.push(row);
}
console.log(JSON.stringify({ bench: 'ae-decoding', model: modelDir, backend: backend.name, autoencoder: source, shape: ae.shape, heldOutSentences: evalRows.length, corpusMedianCE: corpusMedian, rows }, null, 1));
ae.dispose();
tf.disposeVariables();
