// Where a step's time goes: tf.profile's per-kernel times, summed by kernel and by kernel + input shapes.
import * as tf from '@tensorflow/tfjs-core';

export interface KernelRow {
  kernel: string;
  /** Input shapes, e.g. "192x768 · 768x8192"; absent in the by-kernel table. */
  shapes?: string;
  ms: number;
  calls: number;
  /** Share of the summed kernel time, in percent. */
  pct: number;
}

export interface StepProfile {
  /** Wall time of the profiled step (profiling adds a little overhead). */
  wallMs: number;
  /** Sum of leaf kernel times; the rest of wallMs is JS, tape bookkeeping and allocation. */
  kernelMs: number;
  /**
   * Time inside composite ops (tf.customGrad bodies appear as kernel `forward`, ops such as logSoftmax as
   * `name__op`). The kernels they run are listed on their own, so these are left out of the sums above.
   */
  composite: KernelRow[];
  byKernel: KernelRow[];
  byKernelAndShape: KernelRow[];
}

const round = (x: number, k = 10) => Math.round(x * k) / k;

function table(map: Map<string, { kernel: string; shapes?: string; ms: number; calls: number }>, total: number, top: number): KernelRow[] {
  return [...map.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((r) => ({ ...r, ms: round(r.ms), pct: round((100 * r.ms) / total) }));
}

/** Profiles one call of `f` (which must read its result back, e.g. one optimizer step). */
export async function profileStep(f: () => void, top = 15): Promise<StepProfile> {
  const t0 = performance.now();
  const info = await tf.profile(() => {
    f();
    return [] as tf.Tensor[];
  });
  const wallMs = performance.now() - t0;
  const byKernel = new Map<string, { kernel: string; ms: number; calls: number }>();
  const byShape = new Map<string, { kernel: string; shapes: string; ms: number; calls: number }>();
  const composite = new Map<string, { kernel: string; shapes: string; ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const shapes = k.inputShapes.map((s) => (s ? s.join('x') : '?')).join(' · ');
    if (k.name === 'forward' || k.name.endsWith('__op')) {
      const key = `${k.name}|${shapes}`;
      const c = composite.get(key) ?? { kernel: k.name, shapes, ms: 0, calls: 0 };
      c.ms += ms;
      c.calls++;
      composite.set(key, c);
      continue;
    }
    total += ms;
    const a = byKernel.get(k.name) ?? { kernel: k.name, ms: 0, calls: 0 };
    a.ms += ms;
    a.calls++;
    byKernel.set(k.name, a);
    const key = `${k.name}|${shapes}`;
    const b = byShape.get(key) ?? { kernel: k.name, shapes, ms: 0, calls: 0 };
    b.ms += ms;
    b.calls++;
    byShape.set(key, b);
  }
  return {
    wallMs: round(wallMs),
    kernelMs: round(total),
    byKernel: table(byKernel, total, top),
    byKernelAndShape: table(byShape, total, top),
    composite: table(composite, total, 8),
  };
}
