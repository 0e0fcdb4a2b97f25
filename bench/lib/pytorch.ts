// The optional PyTorch column: runs bench/lib/hf_step.py with the python named by TEXTDREAM_PYTHON.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelShape } from './randomModel.js';

export type PytorchColumn = { skipped: string } | { error: string } | Record<string, unknown>;

export interface PytorchRun {
  shape: ModelShape;
  batch: [number, number];
  layer: number;
  neuron: number;
  lambda: number;
  lr: number;
  steps: number;
  warmup: number;
  seed: number;
  timeoutMs?: number;
}

export const PYTORCH_ENV = 'TEXTDREAM_PYTHON';
export const HF_STEP_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'hf_step.py');

export function runPytorch(r: PytorchRun, python = process.env[PYTORCH_ENV]): PytorchColumn {
  if (!python) return { skipped: `set ${PYTORCH_ENV} to a python with torch and transformers` };
  const s = r.shape;
  const args = [
    HF_STEP_SCRIPT,
    ...['--layers', s.nLayer, '--d-model', s.dModel, '--heads', s.nHead, '--d-mlp', s.dMlp, '--vocab', s.vocabSize, '--context', s.nPositions],
    ...['--batch', r.batch[0], '--tokens', r.batch[1], '--layer', r.layer, '--neuron', r.neuron, '--lam', r.lambda, '--lr', r.lr],
    ...['--steps', r.steps, '--warmup', r.warmup, '--seed', r.seed],
  ].map(String);
  const res = spawnSync(python, args, { encoding: 'utf8', timeout: r.timeoutMs ?? 600_000, maxBuffer: 16 << 20 });
  if (res.error) return { error: `${python}: ${res.error.message}` };
  if (res.status !== 0) {
    const tail = (res.stderr || res.stdout || '').trim().split('\n').slice(-1)[0] ?? '';
    return { error: `${python} ${HF_STEP_SCRIPT} exited ${res.status ?? res.signal}: ${tail.slice(0, 300)}` };
  }
  try {
    const line = res.stdout.trim().split('\n').pop() ?? '';
    return { python, ...(JSON.parse(line) as Record<string, unknown>) };
  } catch {
    return { error: `could not parse the JSON ${HF_STEP_SCRIPT} printed: ${res.stdout.slice(0, 200)}` };
  }
}
