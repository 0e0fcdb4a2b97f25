// Central finite differences against autodiff for trainers' losses: for each variable, the coordinates with the
// largest gradient and one at random are perturbed by ±eps and the slope compared with the analytic gradient.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

export interface FDOptions {
  /** Largest-gradient coordinates checked per variable (one random coordinate is added). */
  top: number;
  rand: () => number;
  eps: number;
  /** Allowed |fd − grad| for a finite difference fd. */
  tolerance: (fd: number) => number;
  label?: string;
}

export function expectGradientsMatchFD(loss: () => tf.Scalar, vars: [string, tf.Variable][], o: FDOptions): void {
  const { grads, value } = tf.variableGrads(() => loss(), vars.map(([, v]) => v));
  value.dispose();
  for (const [name, v] of vars) {
    const g = grads[v.name].dataSync();
    const data = v.dataSync().slice();
    const idx = [...g.keys()].sort((a, b) => Math.abs(g[b]) - Math.abs(g[a])).slice(0, o.top).concat(Math.floor(o.rand() * g.length));
    for (const i of idx) {
      const at = (delta: number) => {
        const d = data.slice();
        d[i] += delta;
        v.assign(tf.tensor(d, v.shape));
        const l = loss();
        const out = l.dataSync()[0];
        l.dispose();
        return out;
      };
      const fd = (at(o.eps) - at(-o.eps)) / (2 * o.eps);
      v.assign(tf.tensor(data, v.shape));
      expect(Math.abs(fd - g[i]), `${name}[${i}]${o.label ? ` (${o.label})` : ''} fd ${fd} vs grad ${g[i]}`).toBeLessThan(o.tolerance(fd));
    }
  }
  tf.dispose(Object.values(grads));
}
