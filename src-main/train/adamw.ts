// AdamW (decoupled weight decay) with global-norm gradient clipping and a warmup + cosine schedule.
// Written out rather than using tf.train.adam: we need decoupled decay, per-parameter decay masks and
// moments we can checkpoint and restore exactly.
import * as tf from '@tensorflow/tfjs-core';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  clipNorm?: number;
}

export interface Schedule {
  warmupSteps: number;
  totalSteps: number;
  minLrFraction: number;
}

/** Linear warmup to the peak, then cosine decay to minLrFraction · peak. */
export function lrAt(step: number, peak: number, s: Schedule): number {
  if (step < s.warmupSteps) return (peak * (step + 1)) / s.warmupSteps;
  const t = Math.min(1, (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps));
  return peak * (s.minLrFraction + (1 - s.minLrFraction) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

export interface Param {
  name: string;
  v: tf.Variable;
  decay: boolean;
}

export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly s = new Map<string, tf.Variable>();
  step = 0;
  constructor(readonly params: Param[], readonly opts: AdamWOptions) {
    for (const p of params) {
      // tf.variable copies its initial value: the zeros themselves must go, or each parameter leaks two tensors.
      for (const slots of [this.m, this.s]) {
        const zeros = tf.zerosLike(p.v);
        slots.set(p.name, tf.variable(zeros, false));
        zeros.dispose();
      }
    }
  }

  /** Apply one update with learning rate lr. Returns the gradient norm before clipping. */
  apply(grads: Record<string, tf.Tensor>, lr: number): number {
    const normT = this.gradNorm(grads);
    const norm = Math.sqrt(normT.dataSync()[0]);
    normT.dispose();
    this.update(grads, lr, norm);
    return norm;
  }

  /** apply() reading the norm asynchronously (GPU backends in Node have no synchronous read). */
  async applyAsync(grads: Record<string, tf.Tensor>, lr: number): Promise<number> {
    const normT = this.gradNorm(grads);
    const norm = Math.sqrt((await normT.data())[0]);
    normT.dispose();
    this.update(grads, lr, norm);
    return norm;
  }

  /** Σ‖g‖² over every parameter's gradient (a scalar tensor). Pairwise adds, not one addN: a WebGPU kernel may
   * bind only a few storage buffers (8 per stage is common), and a model has dozens of parameters. */
  private gradNorm(grads: Record<string, tf.Tensor>): tf.Tensor {
    return tf.tidy(() => this.params.map((p) => tf.sum(tf.square(grads[p.v.name]))).reduce((a, b) => tf.add(a, b)));
  }

  private update(grads: Record<string, tf.Tensor>, lr: number, norm: number): void {
    const { beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0.1, clipNorm = 1.0 } = this.opts;
    this.step += 1;
    const t = this.step;
    if (!Number.isFinite(norm)) throw new Error(`gradient norm is ${norm} at step ${t}: lower the learning rate or check the data`);
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    for (const p of this.params) {
      tf.tidy(() => {
        const g = tf.mul(grads[p.v.name], scale);
        const m = this.m.get(p.name)!;
        const s = this.s.get(p.name)!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        s.assign(tf.add(tf.mul(s, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(s, bc2)), eps));
        const decayed = p.decay ? tf.mul(p.v, 1 - lr * weightDecay) : p.v;
        p.v.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    }
  }

  dispose(): void {
    for (const v of [...this.m.values(), ...this.s.values()]) v.dispose();
  }
}
