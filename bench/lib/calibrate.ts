// A plain matMul of a size that runs near the backend's peak, timed beside a bench so its figures can be read
// against what the machine delivered at that moment (another process on the cores shows up here first).
import * as tf from '@tensorflow/tfjs-core';
import { median } from './timing.js';

export interface Calibration {
  shape: string;
  /** Best and median rate over the repetitions. */
  gflopPerS: { best: number; median: number };
}

export function calibrateMatMul(m = 192, k = 768, n = 3072, reps = 8): Calibration {
  const a = tf.randomNormal([m, k]) as tf.Tensor2D;
  const b = tf.randomNormal([k, n]) as tf.Tensor2D;
  const rates: number[] = [];
  try {
    for (let i = 0; i <= reps; i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      c.dataSync();
      const ms = performance.now() - t0;
      c.dispose();
      if (i > 0) rates.push((2 * m * k * n) / ms / 1e6); // the first call packs b and is not counted
    }
  } finally {
    tf.dispose([a, b]);
  }
  const r = (x: number) => Math.round(x * 10) / 10;
  return { shape: `${m}x${k} · ${k}x${n}`, gflopPerS: { best: r(Math.max(...rates)), median: r(median(rates)) } };
}
