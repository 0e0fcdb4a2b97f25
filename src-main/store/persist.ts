// Keeping dreams: a wrapper around a dream generator that stores every step record as it comes and the outcome
// at the end, and the ModelRef that says which weights a run used.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { dreamConfig, type DreamConfig, type TargetSpec } from '../dream/config.js';
import type { DreamResult, StepRecord } from '../dream/loop.js';
import type { LoadedModel } from '../model/load.js';
import type { ExperimentStore, ModelRef } from './types.js';

const EDGE = 1 << 20;

/**
 * A cheap content fingerprint of a model folder: sha256 over config.json, tokenizer.json (when present; an SAE
 * folder passes its cfg.json) and, for every weights file, its size, its first MiB (the safetensors header and the
 * first tensors) and its last MiB. Reads at most 2 MiB per file, so it costs milliseconds even for large
 * checkpoints; any retraining changes it.
 */
export function fingerprintFiles(dir: string, weightFiles: string[], metaFiles: readonly string[] = ['config.json', 'tokenizer.json']): string {
  const h = createHash('sha256');
  for (const name of metaFiles) {
    const p = join(dir, name);
    if (existsSync(p)) h.update(`${name}\0`).update(readFileSync(p));
  }
  const buf = Buffer.alloc(EDGE);
  for (const file of [...weightFiles].sort()) {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      h.update(`\0weights:${size}\0`);
      for (const at of size > 2 * EDGE ? [0, size - EDGE] : [0]) h.update(buf.subarray(0, readSync(fd, buf, 0, EDGE, at)));
      if (size > EDGE && size <= 2 * EDGE) h.update(buf.subarray(0, readSync(fd, buf, 0, EDGE, EDGE)));
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex').slice(0, 32);
}

/** The weights files of a local model folder (single file or the shards an index names). */
export function weightFilesIn(dir: string): string[] {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const index = join(dir, 'model.safetensors.index.json');
  if (!existsSync(index)) return [];
  const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
  return [...new Set(Object.values(map))].map((f) => join(dir, f));
}

/** ModelRef of a loaded model; `spec` is what the user passed (--model), default the resolved folder. */
export function modelRefOf(lm: LoadedModel, spec: string = lm.source.dir): ModelRef {
  const c = lm.config;
  return { spec, dir: lm.source.dir, fingerprint: fingerprintFiles(lm.source.dir, lm.files), nLayer: c.nLayer, dModel: c.dModel, dMlp: c.dMlp };
}

/** A dream generator whose records and outcome are being stored under `runId`. */
export type PersistedDream = AsyncGenerator<StepRecord, DreamResult> & { readonly runId: string };

/**
 * Wrap a runDream generator: the run is created at once (so `runId` is known before the first step), each step
 * record is stored before it is yielded, and the end is stored as 'completed' or 'aborted' (from the result), or
 * 'failed' with the error's message. A consumer that stops iterating early (break, return()) closes the inner
 * generator too (its method's tensors are freed) and the run is stored as 'aborted'.
 */
export function persistDream(
  store: ExperimentStore,
  model: ModelRef,
  gen: AsyncGenerator<StepRecord, DreamResult>,
  config: DreamConfig | (Partial<DreamConfig> & { target: TargetSpec }),
): PersistedDream {
  const runId = store.startDreamRun(model, dreamConfig(config));
  async function* stored(): AsyncGenerator<StepRecord, DreamResult> {
    let finished = false;
    try {
      for (;;) {
        const n = await gen.next();
        if (n.done) {
          store.finishDreamRun(runId, n.value.stopped === 'aborted' ? 'aborted' : 'completed', n.value);
          finished = true;
          return n.value;
        }
        store.appendDreamStep(runId, n.value);
        yield n.value;
      }
    } catch (e) {
      if (!finished) store.finishDreamRun(runId, 'failed', null, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      finished = true;
      throw e;
    } finally {
      if (!finished) {
        await gen.return(undefined as unknown as DreamResult);
        store.finishDreamRun(runId, 'aborted', null, 'stopped by the caller before the dream ended');
      }
    }
  }
  return Object.assign(stored(), { runId });
}
