// A small JumpReLU SAE in SAELens layout with seeded random weights, for tests that need an SAE folder.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rng } from '../../src-main/corpus/rng.js';
import { writeSafetensorsFile } from '../../src-main/model/safetensors.js';

export async function writeJumpReluSae(dir: string, opts: { dIn: number; dSae: number; hook: string; seed: number; threshold?: number }): Promise<void> {
  const { dIn: d, dSae, hook } = opts;
  await mkdir(dir, { recursive: true });
  const rand = rng(opts.seed);
  const uniform = (n: number, s: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);
  const cfg = { architecture: 'jumprelu', d_in: d, d_sae: dSae, apply_b_dec_to_input: true, normalize_activations: 'none', metadata: { sae_lens_version: '6.5.0', hook_name: hook } };
  await writeFile(join(dir, 'cfg.json'), JSON.stringify(cfg));
  await writeSafetensorsFile(join(dir, 'sae_weights.safetensors'), [
    { name: 'W_enc', shape: [d, dSae], data: uniform(d * dSae, 0.5), dtype: 'F32' },
    { name: 'b_enc', shape: [dSae], data: uniform(dSae, 0.1), dtype: 'F32' },
    { name: 'W_dec', shape: [dSae, d], data: uniform(dSae * d, 0.5), dtype: 'F32' },
    { name: 'b_dec', shape: [d], data: uniform(d, 0.1), dtype: 'F32' },
    { name: 'threshold', shape: [dSae], data: Float32Array.from({ length: dSae }, () => opts.threshold ?? 0.2), dtype: 'F32' },
  ]);
}
