// bench/ae-decoding: how a sentence autoencoder's latents become text, argmax against fused with the language model
// (ae/decode.ts) at several λ: held-out reconstruction token accuracy, and the cross-entropy under the model of the
// decoded points between held-out sentences (the protocol of test/ae-default.test.ts: seed 17, a 300-sentence
// corpus median, 4 pairs, 3 interior points each). Prints one JSON object on stdout; progress on stderr.
//   npx tsx bench/ae-decoding.ts [--model dir] [--k 32 | --autoencoder dir | --checkpoint dir] [--lambdas 0,0.5,1,2] [--topk 8] [--sentences 2746] [--vocabulary file|all|<n>] [--pairs-seed 17] [--pairs 4]
// --checkpoint reads a training checkpoint (train-ae's work folder/checkpoint), to choose λ while training runs.
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import { ARGMAX_DECODING, type LatentDecoding } from '../src-main/ae/decode.js';
import { autoencoderDirFor, loadAutoencoder } from '../src-main/ae/files.js';
import { interiorCrossEntropies, interpolationCheckSample, medianCrossEntropy } from '../src-main/ae/interpolate.js';
import { aeInitialValues, SentenceAE, type AEShape } from '../src-main/ae/model.js';
import { sentenceRows } from '../src-main/ae/sentences.js';
import { frequentTokens, reconstruct, reconstructionAccuracy } from '../src-main/ae/train.js';
import { loadCorpus } from '../src-main/corpus/documents.js';
import { rng, shuffle } from '../src-main/corpus/rng.js';
import { splitBySource } from '../src-main/corpus/split.js';
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
    // Decode into: 'file' (what the autoencoder carries), 'all', or n: the n most frequent training tokens.
    vocabulary: { type: 'string', default: 'file' },
    // Validation pairs (another seed, more pairs) to choose λ on; the default is the check of test/ae-default.test.ts.
    'pairs-seed': { type: 'string', default: '17' },
    pairs: { type: 'string', default: '4' },
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

const split = splitBySource(await loadCorpus('brown+sotu'), LM_SPLIT);
const heldOut = sentenceRows(split.heldOut, lm.tokenizer, ae.shape.T, 4).rows;
if (values.vocabulary === 'all') ae.restrictVocabulary(null);
else if (/^\d+$/.test(values.vocabulary)) {
  const { eosTokenId, vocabSize } = lm.model.config;
  ae.restrictVocabulary(frequentTokens(sentenceRows(split.train, lm.tokenizer, ae.shape.T, 4).rows, Number(values.vocabulary), eosTokenId, vocabSize));
} else if (values.vocabulary !== 'file') throw new Error(`--vocabulary ${values.vocabulary}: use file, all or a number of tokens`);
log(`decoding over ${ae.vocabulary ? ae.vocabulary.length : 'all'} tokens`);
const evalRows = values.sentences ? shuffle(heldOut, rng(3)).slice(0, Number(values.sentences)) : heldOut;

const { medianRows, pairs } = interpolationCheckSample(heldOut, Number(values['pairs-seed']), Number(values.pairs));
const corpusMedian = await medianCrossEntropy(lm.model, lm.tokenizer, medianRows);

/** The rows encoded and decoded, re-tokenised from their text as any text would be. */
async function reconstructions(rows: number[][], decoding: LatentDecoding): Promise<number[][]> {
  const out = await reconstruct(lm.model, ae, rows, decoding);
  // A latent the decoder ends at once has no text to score.
  return out.ids.map((r, b) => lm.tokenizer.encode(lm.tokenizer.decode(r.slice(0, out.lengths[b])))).filter((r) => r.length > 0);
}

const rows = [];
for (const lambda of values.lambdas.split(',').map(Number)) {
  const decoding: LatentDecoding = lambda > 0 ? { lmWeight: lambda, topK: Number(values.topk) } : ARGMAX_DECODING;
  const t0 = performance.now();
  const acc = await reconstructionAccuracy(lm.model, ae, evalRows, decoding);
  const interior = await interiorCrossEntropies(lm.model, lm.tokenizer, ae, pairs, decoding);
  const meanCE = interior.reduce((s, p) => s + p.ce, 0) / interior.length;
  // The floor an interpolation is judged against: the same 300 sentences, encoded and decoded, scored as text.
  const reconstructedMedian = await medianCrossEntropy(lm.model, lm.tokenizer, await reconstructions(medianRows, decoding));
  const row = { lambda, topK: decoding.topK, accuracy: acc.accuracy, exact: acc.exact, interpolationCE: meanCE, aboveMedian: meanCE - corpusMedian, reconstructedMedianCE: reconstructedMedian, seconds: (performance.now() - t0) / 1000, interior };
  log(`λ ${lambda}: accuracy ${(100 * acc.accuracy).toFixed(1)} %, interpolation CE ${meanCE.toFixed(2)} (${(meanCE - corpusMedian).toFixed(2)} above the median), reconstructions' median CE ${reconstructedMedian.toFixed(2)}, ${row.seconds.toFixed(0)} s`);
  rows.push(row);
}
console.log(JSON.stringify({ bench: 'ae-decoding', model: modelDir, pairsSeed: Number(values['pairs-seed']), pairs: pairs.length, backend: backend.name, autoencoder: source, shape: ae.shape, vocabulary: ae.vocabulary?.length ?? 'all', heldOutSentences: evalRows.length, corpusMedianCE: corpusMedian, rows }, null, 1));
ae.dispose();
tf.disposeVariables();
