// A sweep's settings from what the user asked for and the model's shape: complete (every default filled in), so
// the settings hash changes whenever anything that changes a job's results does, defaults included.
import { resolve } from 'node:path';
import { dreamConfig, type Method } from '../dream/config.js';
import { isBundledCorpus } from '../scan/corpus.js';
import { DEFAULT_SCAN, defaultWindow } from '../scan/run.js';
import { SweepInputError } from './errors.js';
import type { ScanSae } from '../store/types.js';
import type { SweepSettings } from './types.js';

/**
 * Methods a sweep can run with the model alone and what ships with textdream (`seeded`'s seed pool is bundled);
 * `latent` needs a sentence autoencoder trained for the model, which the settings hash could not name.
 */
export const SWEEP_METHODS = ['fluent', 'embed', 'projected', 'subspace', 'beam', 'seeded'] as const satisfies readonly Method[];
export type SweepMethod = (typeof SWEEP_METHODS)[number];

export const DEFAULT_SWEEP = { methods: ['fluent'] as SweepMethod[], steps: 20, seed: 0, corpus: 'brown+sotu', maxAttempts: 2 };

export interface SweepRequest {
  /** A bundled corpus name or a file (made absolute here). */
  corpus: string;
  heldOut: boolean;
  maxTokens: number | null;
  window?: number;
  top?: number;
  random?: number;
  methods: SweepMethod[];
  steps: number;
  seed: number;
  seqLen?: number;
  /** `offline` or `llm:<model>`. */
  explainer: string;
  withDreams: boolean;
  /** Sweep this SAE's latents instead of MLP neurons (its scan, dreams of `sae:<spec>:N`, explanations of latents). */
  sae?: ScanSae;
}

/** `fluent,embed` → methods (in the order given, no repeats). */
export function parseMethods(value: string, flag = '--methods'): SweepMethod[] {
  const names = value.split(',').map((s) => s.trim());
  const out: SweepMethod[] = [];
  for (const n of names) {
    if (!(SWEEP_METHODS as readonly string[]).includes(n)) {
      const why = n === 'latent' ? ' (latent needs a sentence autoencoder of the model; dream it with textdream dream --method latent)' : '';
      throw new SweepInputError(`${flag}: "${n}" is not a sweep method${why}; use one or more of ${SWEEP_METHODS.join(', ')}, comma-separated, e.g. ${flag} fluent,embed`);
    }
    if (!out.includes(n as SweepMethod)) out.push(n as SweepMethod);
  }
  return out;
}

export function sweepSettings(r: SweepRequest, model: { nPositions: number }): SweepSettings {
  const bundled = isBundledCorpus(r.corpus);
  if (r.heldOut && !bundled) throw new SweepInputError('--held-out selects the default model\'s held-out documents of a bundled corpus; it does not apply to a file');
  if (!r.methods.length) throw new SweepInputError('--methods is empty: give at least one, e.g. --methods fluent');
  // A placeholder target: dreamConfig checks and completes everything but the target, which each job sets.
  const dreams = r.methods.map((method) => {
    const { target: _target, ...rest } = dreamConfig({ target: { kind: 'neuron', layer: 0, neuron: 0 }, method, steps: r.steps, seed: r.seed, seqLen: r.seqLen });
    return rest;
  });
  return {
    version: 3,
    scan: {
      corpus: bundled ? r.corpus : resolve(r.corpus),
      heldOut: r.heldOut,
      window: r.window ?? defaultWindow(model.nPositions),
      top: r.top ?? DEFAULT_SCAN.top,
      random: r.random ?? DEFAULT_SCAN.random,
      maxTokens: r.maxTokens,
      seed: DEFAULT_SCAN.seed,
      sample: DEFAULT_SCAN.sample,
      ...(r.sae ? { sae: r.sae } : {}),
    },
    dreams,
    explain: { explainer: r.explainer, withDreams: r.withDreams },
  };
}
