// One validated config for MNIST dreams, shared by CLI, bench, tests and any stored record.
import { CLASSES } from './data.js';
import { LAYERS, SPACES, type MnistDreamConfig, type MnistTarget } from './spec.js';

export { SPACES, type MnistDreamConfig, type MnistTarget, type Space } from './spec.js';

export const DEFAULT_MNIST_DREAM: Omit<MnistDreamConfig, 'target'> = {
  space: 'latent',
  steps: 150,
  lr: 0.05,
  seed: 0,
  l2: 0,
  tv: 0,
  jitter: 0,
  every: 10,
};

export class MnistDreamConfigError extends Error {
  override name = 'MnistDreamConfigError';
}

/** Fill defaults and check ranges; messages name the option to change. */
export function mnistDreamConfig(partial: Partial<MnistDreamConfig> & { target: MnistTarget }): MnistDreamConfig {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const c = { ...DEFAULT_MNIST_DREAM, ...given } as MnistDreamConfig;
  const int = (k: 'steps' | 'seed' | 'jitter' | 'every', lo: number, hi: number) => {
    const v = c[k];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new MnistDreamConfigError(`--${k} must be an integer in ${lo}-${hi}, got ${v}`);
  };
  const num = (k: 'lr' | 'l2' | 'tv') => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new MnistDreamConfigError(`--${k} must be a number ≥ 0, got ${v}`);
  };
  if (!(SPACES as readonly string[]).includes(c.space)) throw new MnistDreamConfigError(`--space must be one of ${SPACES.join(', ')}, got "${c.space}"`);
  int('steps', 1, 100_000);
  int('seed', 0, 2 ** 31 - 1);
  int('jitter', 0, 8);
  int('every', 1, 100_000);
  num('lr');
  num('l2');
  num('tv');
  const t = c.target;
  if (t.kind === 'class') {
    if (!Number.isInteger(t.class) || t.class < 0 || t.class >= CLASSES) throw new MnistDreamConfigError(`--class must be a digit 0-9, got ${t.class}`);
  } else if (t.kind === 'unit') {
    if (!(LAYERS as readonly string[]).includes(t.layer)) throw new MnistDreamConfigError(`--unit layer must be one of ${LAYERS.join(', ')}, got "${t.layer}"`);
    if (!Number.isInteger(t.index) || t.index < 0) throw new MnistDreamConfigError(`--unit index must be an integer ≥ 0, got ${t.index}`);
  } else {
    throw new MnistDreamConfigError(`unknown target kind "${(t as { kind: string }).kind}"`);
  }
  return c;
}
