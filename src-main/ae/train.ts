// Training the sentence autoencoder against a frozen language model: token reconstruction cross-entropy (over a
// candidate vocabulary: the frequent tokens plus the batch's own, so a step costs a fraction of a full softmax),
// embedding MSE, Gaussian noise on the latent so that nearby latents decode to nearby sentences, and mixup toward
// the nearer sentence so that the points between two sentences decode to a sentence (the intermediate-layer heads
// are fitted afterwards in closed form: residualHeads.ts).
// Resumable from a checkpoint with the optimiser's moments.
import * as tf from '@tensorflow/tfjs-core';
import { rng, shuffle } from '../corpus/rng.js';
import type { GPT2 } from '../model/gpt2.js';
import { chunkedGather, unembedCrossEntropy, type Unembedding } from '../model/ops.js';
import { AdamW, lrAt, type Param } from '../train/adamw.js';
import { ARGMAX_DECODING, decodeLatents, type DecodedLatents, type LatentDecoding } from './decode.js';
import { assertSameShape, readCheckpoint, restoreMoments, writeCheckpoint } from '../train/checkpoint.js';
import { runTrainLoop } from '../train/loop.js';
import { aeInitialValues, augmentedVocab, augmentRows, SentenceAE, vocabRows, type AEShape } from './model.js';
import { padRows } from './sentences.js';

export interface TrainAEOptions {
  shape: AEShape;
  batch: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  minLrFraction: number;
  weightDecay: number;
  clipNorm: number;
  seed: number;
  /** Std of the Gaussian noise added to the normalised latent (radius √k) during training. */
  noise: number;
  /** Weight of the embedding MSE (relative to the mean squared norm of embedding rows). */
  embedWeight: number;
  /** Softmax over the `candidates` most frequent training tokens plus the batch's tokens; 0 = the whole vocabulary. */
  candidates: number;
  /** Weight of padding positions after the terminating <|endoftext|> (easy, so they count less). */
  padWeight: number;
  /**
   * Weight of mixup toward the nearer sentence: at a point between two training sentences' latents (weight α on the
   * first, uniform in [0, 1)), reconstruct the sentence with the larger weight (mixNearestLoss); 0 = off.
   */
  mixNearest: number;
  evalEvery: number;
  evalSentences: number;
  checkpointEvery: number;
  logEvery: number;
}

export interface AETrainLog {
  step: number;
  loss: number;
  ce: number;
  lr: number;
  gradNorm: number;
  sentencesPerSec: number;
  etaSec: number;
  heldOutAccuracy?: number;
}

interface AETrainState {
  step: number;
  options: TrainAEOptions;
  log: AETrainLog[];
}

/** Per-position weights [B·T]: 1 on the sentence and its terminator, padWeight after it. */
export function positionWeights(lengths: number[], T: number, padWeight: number): Float32Array {
  const w = new Float32Array(lengths.length * T);
  lengths.forEach((n, b) => {
    for (let t = 0; t < T; t++) w[b * T + t] = t <= n ? 1 : padWeight;
  });
  return w;
}

/**
 * n candidate token ids, sorted: the pad, then the training rows' tokens by frequency, then (when the rows have
 * fewer than n distinct tokens) unseen ids in order, so that n ≥ the vocabulary means the whole vocabulary.
 */
export function frequentTokens(rows: readonly number[][], n: number, pad: number, vocabSize: number): number[] {
  const counts = new Map<number, number>();
  for (const r of rows) for (const id of r) counts.set(id, (counts.get(id) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([id]) => id);
  const out = new Set([pad, ...ranked.slice(0, Math.max(0, n - 1))]);
  for (let id = 0; id < vocabSize && out.size < n; id++) out.add(id);
  return [...out].sort((a, b) => a - b);
}

/** The rows encoded and decoded (`decoding`), `batch` rows at a time: T ids per row, and where the decoder ends each. */
export async function reconstruct(model: GPT2, ae: SentenceAE, rows: readonly number[][], decoding: LatentDecoding = ARGMAX_DECODING, batch = 64): Promise<DecodedLatents> {
  const { T } = ae.shape;
  const out: DecodedLatents = { ids: [], lengths: [] };
  for (let s = 0; s < rows.length; s += batch) {
    const part = rows.slice(s, s + batch);
    const { ids, lengths } = padRows(part, T, model.config.eosTokenId);
    const z = tf.tidy(() => ae.encode(model, tf.tensor2d(ids, [part.length, T], 'int32'), lengths));
    const decoded = await decodeLatents(model, ae, z, decoding);
    z.dispose();
    out.ids.push(...decoded.ids);
    out.lengths.push(...decoded.lengths);
  }
  return out;
}

/** Token accuracy of the reconstruction (argmax over the decoding vocabulary, or `decoding`) over the sentences' own tokens. */
export async function reconstructionAccuracy(
  model: GPT2,
  ae: SentenceAE,
  rows: readonly number[][],
  decoding: LatentDecoding = ARGMAX_DECODING,
  batch = 64,
): Promise<{ accuracy: number; exact: number; tokens: number }> {
  const pred = (await reconstruct(model, ae, rows, decoding, batch)).ids;
  let right = 0;
  let total = 0;
  let exact = 0;
  rows.forEach((r, b) => {
    let ok = 0;
    r.forEach((id, t) => {
      if (pred[b][t] === id) ok += 1;
    });
    right += ok;
    total += r.length;
    if (ok === r.length) exact += 1;
  });
  return { accuracy: right / total, exact: exact / rows.length, tokens: total };
}

/** A step's candidate vocabulary: its augmented rows as an unembedding, and each position's target column. */
interface Candidates {
  unembed: Unembedding;
  local: Int32Array;
}

export class AETrainer {
  ae!: SentenceAE;
  private opt!: AdamW;
  private params!: Param[];
  state!: AETrainState;
  /** The frequent tokens' embedding rows and their transpose, kept for the whole run (gathers are slow on wasm). */
  private base: { rows: tf.Tensor2D; cols: tf.Tensor2D; index: Map<number, number> } | null = null;
  /** Tensors a step's backward pass needs beyond its forward scope. */
  private stepTensors: tf.Tensor[] = [];

  constructor(readonly model: GPT2, readonly opts: TrainAEOptions, readonly dir: string) {}

  async init(trainRows: readonly number[][], log: (s: string) => void): Promise<void> {
    let values = aeInitialValues(this.opts.shape, this.opts.seed);
    this.state = { step: 0, options: this.opts, log: [] };
    const saved = await readCheckpoint<AETrainState>(this.dir);
    if (saved) {
      assertSameShape(this.dir, saved.state.options.shape, this.opts.shape);
      // The residual heads are not checkpointed (fitted after training): they keep their initial values.
      for (const [k, t] of saved.params) values.set(k, t.data);
      this.state = { ...saved.state, options: this.opts };
      log(`resumed from ${this.dir} at step ${saved.state.step}`);
    }
    this.ae = new SentenceAE(this.opts.shape, values);
    if (!saved) await this.fitHeadToEmbeddings();
    // The residual heads are not trained by gradient: they are fitted in closed form afterwards (residualHeads.ts).
    this.params = [...this.ae.params].filter(([name]) => !name.startsWith('dec.resid')).map(([name, v]) => ({ name, v, decay: v.rank === 2 && name !== 'enc.pos' }));
    this.opt = new AdamW(this.params, { lr: this.opts.lr, weightDecay: this.opts.weightDecay, clipNorm: this.opts.clipNorm });
    if (saved) restoreMoments(this.opt, this.params, saved.moments, this.state.step);
    if (this.opts.mixNearest > 0 && this.opts.candidates <= 0) throw new Error('mixNearest needs a candidate vocabulary (candidates > 0; the default is 4096)');
    if (this.opts.candidates > 0) {
      const ids = frequentTokens(trainRows, this.opts.candidates, this.model.config.eosTokenId, this.model.config.vocabSize);
      // Decode into the tokens every step's softmax shaped (SentenceAE.vocabulary); evaluation and the export use it.
      this.ae.restrictVocabulary(ids);
      const rows = tf.tidy(() => augmentRows(chunkedGather(vocabRows(this.model), tf.tensor1d(ids, 'int32'))));
      this.base = { rows, cols: tf.transpose(rows), index: new Map(ids.map((id, i) => [id, i])) };
    }
  }

  /**
   * Start the embedding head at the scale of the model's embeddings (mean row as bias, outputs with the rows'
   * per-dimension variance): GPT-2 embeddings can be far from unit size, and growing there from a small init
   * costs thousands of steps.
   */
  private async fitHeadToEmbeddings(): Promise<void> {
    const d = this.opts.shape.dModel;
    const [mean, varT] = tf.tidy(() => {
      const m = tf.moments(vocabRows(this.model)[0], 0);
      return [m.mean, tf.mean(m.variance)];
    });
    const variance = (await varT.data())[0];
    varT.dispose();
    const p = (n: string) => this.ae.params.get(n)!;
    p('dec.embed.b').assign(mean);
    mean.dispose();
    const std = Math.sqrt(variance / d);
    p('dec.embed.W').assign(tf.tidy(() => tf.randomNormal([d, d], 0, std, 'float32', this.opts.seed)));
  }

  /**
   * The training loss of a batch of rows (differentiable in the autoencoder's variables). `noiseSeed` fixes the
   * latent noise.
   */
  loss(rows: readonly number[][], noiseSeed: number): { total: tf.Scalar; ce: tf.Scalar } {
    const { shape, noise, embedWeight, padWeight } = this.opts;
    const { T, dModel: d, k } = shape;
    const B = rows.length;
    const pad = this.model.config.eosTokenId;
    const { ids, lengths } = padRows(rows, T, pad);
    const weights = tf.tensor1d(positionWeights(lengths, T, padWeight));
    const wSum = tf.sum(weights);
    const wMean = (perPos: tf.Tensor1D) => tf.div(tf.sum(tf.mul(perPos, weights)), wSum) as tf.Scalar;
    const idsT = tf.tensor2d(ids, [B, T], 'int32');
    const flatIds = tf.reshape(idsT, [-1]) as tf.Tensor1D;
    const tokens = this.model.embed(idsT); // the encoder's input and the embedding head's target
    const mu = this.ae.encodeEmbeddings(tokens, lengths);
    const z = noise > 0 ? tf.add(this.ae.normalize(mu), tf.randomNormal([B, k], 0, noise, 'float32', noiseSeed)) : mu;
    const h = this.ae.decode(z as tf.Tensor2D);
    const feats = tf.reshape(this.ae.head(h, 'logit'), [B * T, d]) as tf.Tensor2D;
    const rowsE = vocabRows(this.model);
    let ce: tf.Tensor1D;
    let cand: Candidates | null = null;
    if (this.base) {
      // Candidates: the frequent tokens (persistent rows) plus the batch's rarer tokens gathered this step.
      const { rows: baseRows, cols: baseCols, index } = this.base; // augmented rows [E_v, ‖E_v‖²]
      const extra = [...new Set(ids)].filter((id) => !index.has(id));
      const local = new Int32Array(ids.length);
      const extraIndex = new Map(extra.map((id, i) => [id, index.size + i]));
      ids.forEach((id, i) => (local[i] = index.get(id) ?? extraIndex.get(id)!));
      // Kept past the forward scope: the fused loss's backward reads these rows (disposed after the step).
      const extraRows = extra.length ? augmentRows(chunkedGather(rowsE, tf.tensor1d(extra, 'int32'))) : null;
      const Ec = tf.keep(extraRows ? (tf.concat([baseRows, extraRows], 0) as tf.Tensor2D) : baseRows.clone());
      const EcT = tf.keep(extraRows ? (tf.concat([baseCols, tf.transpose(extraRows)], 1) as tf.Tensor2D) : baseCols.clone());
      this.stepTensors.push(Ec, EcT);
      cand = { unembed: { E: Ec, ETChunks: [EcT], EChunks: [Ec] }, local };
      ce = unembedCrossEntropy(this.ae.logitQuery(feats), cand.unembed, tf.tensor1d(local, 'int32'));
    } else {
      const { rows: all, cols } = augmentedVocab(this.model);
      ce = unembedCrossEntropy(this.ae.logitQuery(feats), { E: all[0], ETChunks: cols, EChunks: all.length > 1 ? all : undefined }, flatIds);
    }
    const ceMean = wMean(ce);
    let total: tf.Tensor = ceMean;
    if (cand && this.opts.mixNearest > 0) total = tf.add(total, tf.mul(this.opts.mixNearest, this.mixNearestLoss(this.ae.normalize(mu), cand, lengths, noiseSeed)));
    // Embedding MSE, relative to the mean squared norm of the target rows (scale-free across models).
    const target = tf.reshape(tokens, [B * T, d]);
    const emb = tf.reshape(this.ae.head(h, 'embed'), [B * T, d]);
    const embErr = tf.div(wMean(tf.sum(tf.square(tf.sub(emb, target)), 1) as tf.Tensor1D), tf.mean(tf.sum(tf.square(target), 1)));
    total = tf.add(total, tf.mul(embedWeight, embErr));
    return { total: total as tf.Scalar, ce: ceMean };
  }

  /**
   * Mixup toward the nearer sentence: each latent u_b mixed with the next one's, α·u_b + (1 − α)·u_{b+1} with α
   * uniform in [0, 1), decoded, and scored against the sentence with the larger weight: the points between two
   * sentences are taught to decode to a sentence (one of the two) instead of a word-by-word blend of both.
   */
  private mixNearestLoss(u: tf.Tensor2D, cand: Candidates, lengths: number[], seed: number): tf.Scalar {
    const { T, dModel: d } = this.opts.shape;
    const B = u.shape[0];
    const rand = rng(seed + 29);
    const alpha = Array.from({ length: B }, () => rand());
    const target = new Int32Array(B * T);
    const nearer = alpha.map((a, b) => (a >= 0.5 ? b : (b + 1) % B));
    nearer.forEach((src, b) => target.set(cand.local.subarray(src * T, src * T + T), b * T));
    const weights = tf.tensor1d(positionWeights(nearer.map((src) => lengths[src]), T, this.opts.padWeight));
    const a = tf.tensor2d(alpha, [B, 1]);
    const partner = tf.concat([tf.slice(u, [1, 0], [B - 1, -1]), tf.slice(u, [0, 0], [1, -1])], 0);
    const zm = tf.add(tf.mul(a, u), tf.mul(tf.sub(1, a), partner)) as tf.Tensor2D;
    const feats = tf.reshape(this.ae.head(this.ae.decode(zm), 'logit'), [B * T, d]) as tf.Tensor2D;
    const ce = unembedCrossEntropy(this.ae.logitQuery(feats), cand.unembed, tf.tensor1d(target, 'int32'));
    return tf.div(tf.sum(tf.mul(ce, weights)), tf.sum(weights)) as tf.Scalar;
  }

  /** The rows of step `step`: an epoch-wise shuffle of the training set, deterministic in the seed. */
  batchRows(train: readonly number[][], step: number): number[][] {
    const perEpoch = Math.max(1, Math.floor(train.length / this.opts.batch));
    const epoch = Math.floor(step / perEpoch);
    if (this.epochCache?.epoch !== epoch) this.epochCache = { epoch, order: shuffle(train.map((_, i) => i), rng(this.opts.seed * 7919 + epoch)) };
    const at = (step % perEpoch) * this.opts.batch;
    return this.epochCache.order.slice(at, at + this.opts.batch).map((i) => train[i] as number[]);
  }
  private epochCache: { epoch: number; order: number[] } | null = null;

  /** One step; reads asynchronously, so it runs on every backend (WebGPU in Node has no synchronous read). */
  async trainStep(rows: readonly number[][]): Promise<{ loss: number; ce: number; gradNorm: number; lr: number }> {
    const o = this.opts;
    const lr = lrAt(this.state.step, o.lr, { warmupSteps: o.warmupSteps, totalSteps: o.steps, minLrFraction: o.minLrFraction });
    let ceT: tf.Scalar | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const r = this.loss(rows, o.seed * 1_000_003 + this.state.step);
      ceT = tf.keep(r.ce);
      return r.total;
    }, this.params.map((p) => p.v));
    const loss = (await value.data())[0];
    const ce = (await (ceT as unknown as tf.Scalar).data())[0];
    const gradNorm = await this.opt.applyAsync(grads, lr);
    tf.dispose([value, ceT!, ...Object.values(grads), ...this.stepTensors]);
    this.stepTensors = [];
    this.state.step += 1;
    return { loss, ce, gradNorm, lr };
  }

  async train(train: readonly number[][], heldOut: readonly number[][], log: (s: string) => void, signal?: AbortSignal): Promise<void> {
    const o = this.opts;
    const evalRows = heldOut.slice(0, o.evalSentences);
    await runTrainLoop(
      {
        cadence: o,
        done: () => this.state.step,
        step: () => this.trainStep(this.batchRows(train, this.state.step)),
        report: async (window, secs, evaluate) => {
          const step = this.state.step;
          const r = window[window.length - 1];
          const sps = (window.length * o.batch) / secs;
          const mean = (f: (w: (typeof window)[number]) => number) => window.reduce((a, w) => a + f(w), 0) / window.length;
          const entry: AETrainLog = { step, loss: mean((w) => w.loss), ce: mean((w) => w.ce), lr: r.lr, gradNorm: r.gradNorm, sentencesPerSec: sps, etaSec: ((o.steps - step) * o.batch) / sps };
          if (evaluate) entry.heldOutAccuracy = (await reconstructionAccuracy(this.model, this.ae, evalRows)).accuracy;
          this.state.log.push(entry);
          log(
            `step ${step}/${o.steps} loss ${entry.loss.toFixed(3)} ce ${entry.ce.toFixed(3)}${entry.heldOutAccuracy !== undefined ? ` held-out accuracy ${(100 * entry.heldOutAccuracy).toFixed(1)} %` : ''} lr ${r.lr.toExponential(2)} |g| ${r.gradNorm.toFixed(2)} ${sps.toFixed(1)} sent/s ETA ${(entry.etaSec / 60).toFixed(1)} min`,
          );
        },
        checkpoint: () => this.checkpoint(),
      },
      signal,
    );
  }

  checkpoint(): Promise<void> {
    return writeCheckpoint(this.dir, this.params, this.opt, this.state);
  }

  dispose(): void {
    this.opt?.dispose();
    this.ae?.dispose();
    if (this.base) tf.dispose([this.base.rows, this.base.cols]);
    this.base = null;
  }
}
