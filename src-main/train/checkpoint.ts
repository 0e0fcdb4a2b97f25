// Resumable training checkpoints shared by every trainer: parameters and AdamW moments in one safetensors file,
// then the JSON state, each written atomically (a crash leaves the previous checkpoint whole).
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensorsFile, writeSafetensorsFile, type RawTensor } from '../model/safetensors.js';
import type { AdamW, Param } from './adamw.js';

export async function writeCheckpoint(dir: string, params: Param[], opt: AdamW, state: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors = [];
  for (const p of params) {
    tensors.push({ name: p.name, shape: p.v.shape, data: (await p.v.data()) as Float32Array, dtype: 'F32' as const });
    tensors.push({ name: `adam.m.${p.name}`, shape: p.v.shape, data: (await opt.m.get(p.name)!.data()) as Float32Array, dtype: 'F32' as const });
    tensors.push({ name: `adam.s.${p.name}`, shape: p.v.shape, data: (await opt.s.get(p.name)!.data()) as Float32Array, dtype: 'F32' as const });
  }
  await writeSafetensorsFile(join(dir, 'state.safetensors'), tensors);
  await writeFile(join(dir, 'state.json.tmp'), JSON.stringify(state, null, 1));
  await rename(join(dir, 'state.json.tmp'), join(dir, 'state.json'));
}

export interface SavedCheckpoint<S> {
  state: S;
  /** The parameters by name (Adam moments removed). */
  params: Map<string, RawTensor>;
  moments: Map<string, RawTensor>;
}

/** The checkpoint in `dir`, or null when there is none yet. */
export async function readCheckpoint<S>(dir: string): Promise<SavedCheckpoint<S> | null> {
  const stateFile = join(dir, 'state.json');
  if (!existsSync(stateFile)) return null;
  const state = JSON.parse(await readFile(stateFile, 'utf8')) as S;
  const all = await readSafetensorsFile(join(dir, 'state.safetensors'));
  return {
    state,
    params: new Map([...all].filter(([k]) => !k.startsWith('adam.'))),
    moments: new Map([...all].filter(([k]) => k.startsWith('adam.'))),
  };
}

/** A checkpoint of another shape cannot be resumed: say which folder, both shapes, and the fix. */
export function assertSameShape(dir: string, saved: unknown, requested: unknown): void {
  if (JSON.stringify(saved) !== JSON.stringify(requested)) {
    throw new Error(`${join(dir, 'state.json')}: checkpoint shape ${JSON.stringify(saved)} differs from the requested one; use another --work folder or delete that checkpoint`);
  }
}

/** Put saved moments back into the optimiser, which then continues at `step`. */
export function restoreMoments(opt: AdamW, params: Param[], moments: Map<string, RawTensor>, step: number): void {
  for (const p of params) {
    opt.m.get(p.name)!.assign(tf.tensor(moments.get(`adam.m.${p.name}`)!.data, p.v.shape));
    opt.s.get(p.name)!.assign(tf.tensor(moments.get(`adam.s.${p.name}`)!.data, p.v.shape));
  }
  opt.step = step;
}
