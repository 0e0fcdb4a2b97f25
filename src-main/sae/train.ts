// Training a TopK sparse autoencoder on batches of activations (topk.ts has the loss and its gradients): Adam,
// decoder rows renormalised to unit length after every step, dead latents counted in training tokens and revived
// by AuxK, held-out metrics every evalEvery steps. Resumable from a checkpoint with the optimiser's moments and the
// dead-latent counters, so a stopped and resumed run takes exactly the steps an uninterrupted one would.
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../corpus/rng.js';
import { AdamW, lrAt, type Param } from '../train/adamw.js';
import { assertSameShape, readCheckpoint, restoreMoments, writeCheckpoint } from '../train/checkpoint.js';
import { runTrainLoop } from '../train/loop.js';
import { SaeDataError, type ActivationSource } from './activations.js';
import { reconstructionMetrics, type ReconstructionMetrics, type SaeReconstruct } from './evaluate.js';
import { geometricMedian } from './geometricMedian.js';
import { topkEncode, topkDecode, topkStep, unitRows, withoutParallelComponent, type TopKParams, type TopKSettings } from './topk.js';

/** What a checkpoint must agree on to be resumed. */
export interface SaeShape {
  dIn: number;
  dSae: number;
  k: number;
  /** The hook's name, e.g. blocks.2.hook_resid_pre. */
  hook: string;
  applyBDecToInput: boolean;
}

export interface TrainSaeOptions {
  shape: SaeShape;
  /** Tokens per step. */
  batch: number;
  steps: number;
  /** Peak Adam learning rate (β 0.9/0.999, no weight decay). */
  lr: number;
  warmupSteps: number;
  /** The learning rate decays by a cosine to this fraction of the peak at the last step. */
  minLrFraction: number;
  seed: number;
  /** Steps served by one shuffled fill of activations (activations.ts). */
  bufferBatches: number;
  /** A latent is dead once it has not fired for this many training tokens. */
  deadWindow: number;
  /** Weight of the AuxK term; 0 = off. */
  auxKCoefficient: number;
  /** Dead latents AuxK uses per token (Gao et al.: d_in / 2). */
  auxK: number;
  bDecInit: 'geometric_median' | 'mean';
  /** Tokens b_dec is initialised from. */
  initSample: number;
  evalEvery: number;
  checkpointEvery: number;
  logEvery: number;
}

export interface SaeStepResult {
  mse: number;
  aux: number;
  /** The batch's fraction of variance explained. */
  fve: number;
  l0: number;
  lr: number;
}

export interface SaeTrainLog {
  step: number;
  mse: number;
  fve: number;
  l0: number;
  /** Latents that have not fired in the last deadWindow training tokens. */
  deadFraction: number;
  aux: number;
  lr: number;
  tokensPerSec: number;
  etaSec: number;
  heldOut?: ReconstructionMetrics;
}

interface SaeTrainState {
  step: number;
  options: TrainSaeOptions;
  log: SaeTrainLog[];
  /** Training tokens since each latent last fired. */
  sinceFired: number[];
  /** Whatever the caller identifies the activations' model by, checked on resume. */
  identity: unknown;
}

const PARAM_NAMES = ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const;

/** W_dec [d_sae, d_in] with Gaussian rows scaled to unit norm (seeded), and W_enc its transpose. */
export function initialDecoder(dSae: number, dIn: number, seed: number): { W_dec: Float32Array; W_enc: Float32Array } {
  const rand = rng(seed);
  const W_dec = new Float32Array(dSae * dIn);
  for (let i = 0; i < W_dec.length; i++) W_dec[i] = Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const W_enc = new Float32Array(dIn * dSae);
  for (let j = 0; j < dSae; j++) {
    let norm = 0;
    for (let i = 0; i < dIn; i++) norm += W_dec[j * dIn + i] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < dIn; i++) {
      W_dec[j * dIn + i] /= norm;
      W_enc[i * dSae + j] = W_dec[j * dIn + i];
    }
  }
  return { W_dec, W_enc };
}

export class SaeTrainer {
  state!: SaeTrainState;
  private vars!: Record<(typeof PARAM_NAMES)[number], tf.Variable>;
  private params!: Param[];
  private opt!: AdamW;

  constructor(
    readonly opts: TrainSaeOptions,
    readonly dir: string,
  ) {}

  /** Resume from `dir` when it holds a checkpoint, else initialise (b_dec from `source.sample`). */
  async init(source: ActivationSource, log: (s: string) => void, identity: unknown = null): Promise<void> {
    const { dIn, dSae } = this.opts.shape;
    if (source.dIn !== dIn) throw new Error(`the activations are ${source.dIn} wide but the SAE's d_in is ${dIn}`);
    const saved = await readCheckpoint<SaeTrainState>(this.dir);
    let values: Map<string, Float32Array>;
    if (saved) {
      assertSameShape(this.dir, saved.state.options.shape, this.opts.shape);
      if (JSON.stringify(saved.state.identity) !== JSON.stringify(identity)) {
        throw new SaeDataError(`${this.dir}: the checkpoint was trained on another model's activations; use another --work folder or delete that checkpoint`);
      }
      values = new Map([...saved.params].map(([k, t]) => [k, t.data]));
      this.state = { ...saved.state, options: this.opts };
      log(`resumed from ${this.dir} at step ${saved.state.step}`);
    } else {
      const { W_dec, W_enc } = initialDecoder(dSae, dIn, this.opts.seed);
      values = new Map([
        ['W_enc', W_enc],
        ['b_enc', new Float32Array(dSae)],
        ['W_dec', W_dec],
        ['b_dec', await this.initialBDec(source)],
      ]);
      this.state = { step: 0, options: this.opts, log: [], sinceFired: new Array<number>(dSae).fill(0), identity };
    }
    const shapes = { W_enc: [dIn, dSae], b_enc: [dSae], W_dec: [dSae, dIn], b_dec: [dIn] };
    // Inside tidy so the initial tensors go once the variables hold their values (variables outlive any tidy).
    this.vars = tf.tidy(() => Object.fromEntries(PARAM_NAMES.map((n) => [n, tf.variable(tf.tensor(values.get(n)!, shapes[n]), true)]))) as SaeTrainer['vars'];
    this.params = PARAM_NAMES.map((name) => ({ name, v: this.vars[name], decay: false }));
    this.opt = new AdamW(this.params, { lr: this.opts.lr, beta1: 0.9, beta2: 0.999, weightDecay: 0, clipNorm: 0 });
    if (saved) restoreMoments(this.opt, this.params, saved.moments, this.state.step);
  }

  private async initialBDec(source: ActivationSource): Promise<Float32Array> {
    const { dIn } = this.opts.shape;
    const sample = await source.sample(this.opts.initSample);
    const b = tf.tidy(() => {
      const x = tf.tensor2d(sample, [sample.length / dIn, dIn]);
      return this.opts.bDecInit === 'geometric_median' ? geometricMedian(x) : (tf.mean(x, 0) as tf.Tensor1D);
    });
    const out = (await b.data()) as Float32Array;
    b.dispose();
    return out;
  }

  /** The current weights (the trainer's own variables: do not dispose). */
  get weights(): TopKParams {
    const v = this.vars;
    return { W_enc: v.W_enc as tf.Tensor2D, b_enc: v.b_enc as tf.Tensor1D, W_dec: v.W_dec as tf.Tensor2D, b_dec: v.b_dec as tf.Tensor1D };
  }

  get settings(): TopKSettings {
    return { k: this.opts.shape.k, applyBDecToInput: this.opts.shape.applyBDecToInput };
  }

  /** Latents and reconstruction of x [n, d_in] by the trainer's own forward pass. */
  readonly reconstruct: SaeReconstruct = (x) =>
    tf.tidy(() => {
      const f = topkEncode(this.weights, x, this.settings).f;
      return { f, recon: topkDecode(this.weights, f) };
    });

  /** Latents that have not fired in the last deadWindow training tokens. */
  deadMask(): { mask: Float32Array; count: number } {
    const mask = Float32Array.from(this.state.sinceFired, (t) => (t >= this.opts.deadWindow ? 1 : 0));
    return { mask, count: mask.reduce((a, v) => a + v, 0) };
  }

  /** One Adam step on a batch of activations [batch, d_in]. */
  async trainStep(rows: Float32Array): Promise<SaeStepResult> {
    const o = this.opts;
    const { dIn, dSae } = o.shape;
    const n = rows.length / dIn;
    const lr = lrAt(this.state.step, o.lr, { warmupSteps: o.warmupSteps, totalSteps: o.steps, minLrFraction: o.minLrFraction });
    const dead = this.deadMask();
    const out = tf.tidy(() => {
      const aux = o.auxKCoefficient > 0 && dead.count > 0 ? { dead: tf.tensor1d(dead.mask), numDead: dead.count, kAux: o.auxK, coefficient: o.auxKCoefficient } : undefined;
      const s = topkStep(this.weights, tf.tensor2d(rows, [n, dIn]), this.settings, aux);
      const grads = { ...s.grads, W_dec: withoutParallelComponent(s.grads.W_dec, this.weights.W_dec) };
      return { stats: tf.stack([s.mse, s.aux, s.sse, s.variance, s.l0]), fired: s.fired, grads };
    });
    const [stats, fired] = await Promise.all([out.stats.data(), out.fired.data()]);
    await this.opt.applyAsync(Object.fromEntries(PARAM_NAMES.map((p) => [this.vars[p].name, out.grads[p]])), lr);
    const renormed = unitRows(this.weights.W_dec);
    this.vars.W_dec.assign(renormed);
    tf.dispose([renormed, out.stats, out.fired, ...Object.values(out.grads)]);
    for (let j = 0; j < dSae; j++) this.state.sinceFired[j] = fired[j] > 0 ? 0 : this.state.sinceFired[j] + n;
    this.state.step += 1;
    const [mse, aux, sse, variance, l0] = stats;
    return { mse, aux, fve: 1 - sse / variance, l0, lr };
  }

  /** Held-out metrics over activations [n, d_in]. */
  evaluate(acts: Float32Array): Promise<ReconstructionMetrics> {
    return reconstructionMetrics(this.reconstruct, acts, this.opts.shape.dIn);
  }

  async train(source: ActivationSource, heldOut: Float32Array | null, log: (s: string) => void, signal?: AbortSignal): Promise<void> {
    const o = this.opts;
    await runTrainLoop(
      {
        cadence: o,
        done: () => this.state.step,
        step: async () => this.trainStep(await source.batch(this.state.step)),
        report: async (window, secs, evaluate) => {
          const step = this.state.step;
          const mean = (f: (r: SaeStepResult) => number) => window.reduce((a, r) => a + f(r), 0) / window.length;
          const tps = (window.length * o.batch) / secs;
          const entry: SaeTrainLog = {
            step,
            mse: mean((r) => r.mse),
            fve: mean((r) => r.fve),
            l0: mean((r) => r.l0),
            deadFraction: this.deadMask().count / o.shape.dSae,
            aux: mean((r) => r.aux),
            lr: window[window.length - 1].lr,
            tokensPerSec: tps,
            etaSec: ((o.steps - step) * o.batch) / tps,
          };
          if (evaluate && heldOut) entry.heldOut = await this.evaluate(heldOut);
          this.state.log.push(entry);
          const h = entry.heldOut;
          log(
            `step ${step}/${o.steps} mse ${entry.mse.toPrecision(4)} fve ${entry.fve.toFixed(3)} L0 ${entry.l0.toFixed(1)} dead ${(100 * entry.deadFraction).toFixed(1)} %` +
              `${o.auxKCoefficient > 0 ? ` aux ${entry.aux.toPrecision(3)}` : ''} lr ${entry.lr.toExponential(2)} ${tps.toFixed(0)} tok/s ETA ${(entry.etaSec / 60).toFixed(1)} min` +
              (h ? ` | held-out fve ${h.fve.toFixed(3)} L0 ${h.l0.toFixed(1)} never fired ${(100 * h.deadFraction).toFixed(1)} % (${h.tokens} tokens)` : ''),
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

  /** The weights as arrays, by SAELens's tensor names. */
  async values(): Promise<Map<(typeof PARAM_NAMES)[number], Float32Array>> {
    const out = new Map<(typeof PARAM_NAMES)[number], Float32Array>();
    for (const n of PARAM_NAMES) out.set(n, Float32Array.from(await this.vars[n].data()));
    return out;
  }

  dispose(): void {
    this.opt?.dispose();
    if (this.vars) for (const v of Object.values(this.vars)) v.dispose();
  }
}
