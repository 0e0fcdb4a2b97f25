// Train a GPT-2 from scratch with the runtime's own architecture: resumable, logged, exported in HF layout.
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../corpus/rng.js';
import { parseGPT2Config, toHFConfig, type GPT2Config } from '../model/config.js';
import { GPT2 } from '../model/gpt2.js';
import type { RawTensor } from '../model/safetensors.js';
import { expectedKeys, buildWeights, namedWeights } from '../model/weights.js';
import { AdamW, lrAt, type Param } from './adamw.js';
import { assertSameShape, readCheckpoint, restoreMoments, writeCheckpoint } from './checkpoint.js';
import { runTrainLoop } from './loop.js';
import { evalWindows, sampleBatch } from './lmData.js';

export interface LMShape {
  nLayer: number;
  dModel: number;
  nHead: number;
  dMlp: number;
  context: number;
  vocabSize: number;
}

export interface TrainLMOptions {
  shape: LMShape;
  batch: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  minLrFraction: number;
  weightDecay: number;
  clipNorm: number;
  seed: number;
  evalEvery: number;
  evalTokens: number;
  checkpointEvery: number;
  logEvery: number;
}

export interface TrainLog {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
  etaSec: number;
  heldOutLoss?: number;
}

export function lmConfig(s: LMShape): GPT2Config {
  return parseGPT2Config(
    toHFConfig({ vocabSize: s.vocabSize, nPositions: s.context, dModel: s.dModel, nLayer: s.nLayer, nHead: s.nHead, dMlp: s.dMlp, layerNormEps: 1e-5, tieWordEmbeddings: true, bosTokenId: s.vocabSize - 1, eosTokenId: s.vocabSize - 1 }),
  );
}

/** GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/√(2·layers), zero biases, unit gains. */
export function initialTensors(c: GPT2Config, seed: number): Map<string, RawTensor> {
  const rand = rng(seed);
  const normal = () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const out = new Map<string, RawTensor>();
  for (const [name, shape] of expectedKeys(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('.weight') && shape.length === 2) {
      const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * c.nLayer) : name === 'wpe.weight' ? 0.01 : 0.02;
      for (let i = 0; i < n; i++) data[i] = normal() * std;
    } else if (/ln_\d\.weight$|ln_f\.weight$/.test(name)) data.fill(1);
    out.set(name, { name, dtype: 'F32', shape, data });
  }
  return out;
}

/** Mean next-token loss of `model` over `stream` in non-overlapping windows (at most maxTokens targets). */
export function heldOutLoss(model: GPT2, stream: Int32Array, context: number, batch: number, maxTokens = Infinity): { nats: number; tokens: number } {
  let nats = 0;
  let tokens = 0;
  for (const { x, y, rows } of evalWindows(stream, context, batch)) {
    nats += tf.tidy(() => {
      const ce = model.tokenLoss({ ids: tf.tensor2d(x, [rows, context], 'int32') }, tf.tensor2d(y, [rows, context], 'int32'));
      return tf.sum(ce).dataSync()[0];
    });
    tokens += rows * context;
    if (tokens >= maxTokens) break;
  }
  return { nats: nats / tokens, tokens };
}

interface TrainState {
  step: number;
  options: TrainLMOptions;
  log: TrainLog[];
  tokensSeen: number;
}

export class LMTrainer {
  readonly config: GPT2Config;
  model!: GPT2;
  private opt!: AdamW;
  private params!: Param[];
  state!: TrainState;

  constructor(readonly opts: TrainLMOptions, readonly dir: string) {
    this.config = lmConfig(opts.shape);
  }

  /** Start fresh, or resume from `dir/state.safetensors` when present (options must match). */
  async init(log: (s: string) => void): Promise<void> {
    let tensors = initialTensors(this.config, this.opts.seed);
    this.state = { step: 0, options: this.opts, log: [], tokensSeen: 0 };
    const saved = await readCheckpoint<TrainState>(this.dir);
    if (saved) {
      assertSameShape(this.dir, saved.state.options.shape, this.opts.shape);
      tensors = saved.params;
      this.state = { ...saved.state, options: this.opts };
      log(`resumed from ${this.dir} at step ${saved.state.step}`);
    }
    this.model = new GPT2(this.config, buildWeights(tensors, this.config, { trainable: true }));
    this.params = [...namedWeights(this.model.weights)].map(([name, v]) => ({
      name,
      v: v as tf.Variable,
      // No decay on biases, layer-norm gains or position embeddings (the usual GPT-2 recipe).
      decay: v.rank === 2 && name !== 'wpe.weight',
    }));
    this.opt = new AdamW(this.params, { lr: this.opts.lr, weightDecay: this.opts.weightDecay, clipNorm: this.opts.clipNorm });
    if (saved) restoreMoments(this.opt, this.params, saved.moments, this.state.step);
  }

  /** Mean next-token loss of a batch (x, y int32 [batch·context]), differentiable in every weight. */
  loss(x: Int32Array, y: Int32Array): tf.Scalar {
    const { batch, shape } = this.opts;
    return tf.mean(this.model.tokenLoss({ ids: tf.tensor2d(x, [batch, shape.context], 'int32') }, tf.tensor2d(y, [batch, shape.context], 'int32')));
  }

  /** One optimisation step on a batch; returns the mean loss. */
  trainStep(x: Int32Array, y: Int32Array): { loss: number; gradNorm: number; lr: number } {
    const { batch, shape } = this.opts;
    const lr = lrAt(this.state.step, this.opts.lr, { warmupSteps: this.opts.warmupSteps, totalSteps: this.opts.steps, minLrFraction: this.opts.minLrFraction });
    const { value, grads } = tf.variableGrads(() => this.loss(x, y), this.params.map((p) => p.v));
    const loss = value.dataSync()[0];
    const gradNorm = this.opt.apply(grads, lr);
    tf.dispose([value, ...Object.values(grads)]);
    this.state.step += 1;
    this.state.tokensSeen += batch * shape.context;
    return { loss, gradNorm, lr };
  }

  async train(train: Int32Array, heldOut: Int32Array, log: (s: string) => void, signal?: AbortSignal): Promise<void> {
    const o = this.opts;
    await runTrainLoop(
      {
        cadence: o,
        done: () => this.state.step,
        step: async () => {
          const { x, y } = sampleBatch(train, o.batch, o.shape.context, o.seed, this.state.step);
          return this.trainStep(x, y);
        },
        report: async (window, secs, evaluate) => {
          const step = this.state.step;
          const r = window[window.length - 1];
          const tps = (window.length * o.batch * o.shape.context) / secs;
          const loss = window.reduce((a, w) => a + w.loss, 0) / window.length;
          const entry: TrainLog = { step, loss, lr: r.lr, gradNorm: r.gradNorm, tokensPerSec: tps, etaSec: ((o.steps - step) * o.batch * o.shape.context) / tps };
          if (evaluate) entry.heldOutLoss = heldOutLoss(this.model, heldOut, o.shape.context, o.batch, o.evalTokens).nats;
          this.state.log.push(entry);
          log(
            `step ${step}/${o.steps} loss ${entry.loss.toFixed(3)}${entry.heldOutLoss !== undefined ? ` held-out ${entry.heldOutLoss.toFixed(3)}` : ''} lr ${r.lr.toExponential(2)} |g| ${r.gradNorm.toFixed(2)} ${tps.toFixed(0)} tok/s ETA ${(entry.etaSec / 60).toFixed(1)} min`,
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
    this.model?.dispose();
  }
}
