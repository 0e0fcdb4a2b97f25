// The engine's model: one loaded at a time, loaded as a task (download progress, cancellable), described as
// plain data for the UI, and fingerprinted for the experiment store so runs on different weights never mix.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelChoice, ModelInfo, ModelsState, SaeChoice } from '../api/contract.js';
import { initBackend, type BackendInfo } from '../backend.js';
import { defaultModelDir, loadModel, type LoadedModel } from '../model/load.js';
import { fingerprintFiles, modelRefOf } from '../store/persist.js';
import type { ModelRef } from '../store/types.js';
import { listModelSaes } from '../sae/list.js';
import { BusyError, InvalidRequestError, NoModelError } from './errors.js';
import type { EventHub } from './events.js';
import type { TaskRegistry } from './tasks.js';
import { settingsFromEnv } from '../environment.js';

export interface LoadedEntry {
  lm: LoadedModel;
  info: ModelInfo;
  ref: ModelRef;
}

export interface ModelHostOptions {
  events: EventHub;
  tasks: TaskRegistry;
  /** Settings for the hub (HF_ENDPOINT, HF_HOME, ...); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** tfjs backend request ('auto', 'wasm', ...); default TEXTDREAM_BACKEND, else auto. */
  backend?: string;
  /** True while something (a dream) uses the current model, so it must not be swapped out. */
  inUse: () => boolean;
}

/**
 * The model's content fingerprint, the store's key for everything measured on these weights (dream runs, scans,
 * explanations): the same function the CLI commands use (store/persist.ts), so pages in the UI find their scans.
 */
export function fingerprint(lm: LoadedModel): string {
  return fingerprintFiles(lm.source.dir, lm.files);
}

export function describeModel(spec: string, lm: LoadedModel, backend: BackendInfo, saes: SaeChoice[] = []): ModelInfo {
  const c = lm.config;
  return {
    spec,
    dir: lm.source.dir,
    source: lm.source.source,
    nLayer: c.nLayer,
    dModel: c.dModel,
    nHead: c.nHead,
    dMlp: c.dMlp,
    nPositions: c.nPositions,
    vocabSize: c.vocabSize,
    parameters: lm.parameters,
    dtypes: lm.dtypes,
    backend: backend.name,
    saes,
  };
}

export class ModelHost {
  private current: LoadedEntry | null = null;
  private loading: string | null = null;
  private failure: string | null = null;
  private readonly recent: string[] = [];
  private backend: BackendInfo | null = null;

  constructor(private readonly opts: ModelHostOptions) {}

  get backendName(): string | null {
    return this.backend?.name ?? null;
  }

  state(): ModelsState {
    return { current: this.current?.info ?? null, loading: this.loading, failure: this.failure, choices: this.choices() };
  }

  private choices(): ModelChoice[] {
    const def = defaultModelDir();
    const has = (dir: string) => existsSync(join(dir, 'config.json'));
    const out: ModelChoice[] = [
      {
        spec: def,
        label: 'textdream-gpt2-small (embedded default)',
        kind: 'default',
        available: has(def),
        ...(has(def) ? {} : { note: 'not built yet: run `textdream train-lm`' }),
      },
    ];
    const same = (a: string, b: string) => a === b || resolve(a) === resolve(b);
    for (const spec of this.recent) {
      if (!out.some((c) => same(c.spec, spec))) out.push({ spec, label: spec, kind: 'recent', available: true });
    }
    return out;
  }

  /** The loaded model, or NoModelError. */
  require(): LoadedEntry {
    if (!this.current) throw new NoModelError();
    return this.current;
  }

  peek(): LoadedEntry | null {
    return this.current;
  }

  async load(spec: string): Promise<ModelInfo> {
    if (typeof spec !== 'string' || spec.trim() === '') throw new InvalidRequestError('spec must be a model folder or a Hugging Face id');
    spec = spec.trim();
    if (this.loading) throw new BusyError(`a model is already loading (${this.loading}); wait for it or cancel its task`);
    if (this.current && this.opts.inUse()) throw new BusyError('a dream is running on the current model: stop it before switching models');
    const env = this.opts.env ?? process.env;
    const task = this.opts.tasks.begin('model', `load ${spec}`);
    this.loading = spec;
    this.failure = null;
    this.changed();
    try {
      const backend = await this.ensureBackend();
      const files = new Map<string, { loaded: number; total: number | null }>();
      const lm = await loadModel(spec, {
        env,
        signal: task.signal,
        onProgress: (p) => {
          if (p.type === 'initiate') files.set(p.file, { loaded: 0, total: null });
          else if (p.type === 'progress') files.set(p.file, { loaded: p.loaded, total: p.total });
          else return;
          let done = 0;
          let total: number | null = 0;
          for (const f of files.values()) {
            done += f.loaded;
            total = total === null || f.total === null ? null : total + f.total;
          }
          task.progress(done, total, p.file);
        },
      });
      const entry: LoadedEntry = { lm, info: describeModel(spec, lm, backend, await listModelSaes(lm.source.dir)), ref: this.refOf(spec, lm) };
      this.current?.lm.model.dispose();
      this.current = entry;
      if (!this.recent.includes(spec)) this.recent.unshift(spec);
      this.recent.splice(8);
      task.finish();
      return entry.info;
    } catch (e) {
      task.finish(e);
      this.failure = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw e;
    } finally {
      this.loading = null;
      this.changed();
    }
  }

  /** Start the tfjs backend once (a model load does; so does anything else that computes, e.g. MNIST). */
  async ensureBackend(): Promise<BackendInfo> {
    const env = this.opts.env ?? process.env;
    this.backend ??= await initBackend(this.opts.backend ?? settingsFromEnv(env).backend ?? 'auto', 'backend');
    return this.backend;
  }

  private refOf(spec: string, lm: LoadedModel): ModelRef {
    return modelRefOf(lm, spec);
  }

  private changed(): void {
    this.opts.events.publish('models.changed', this.state());
  }

  dispose(): void {
    this.current?.lm.model.dispose();
    this.current = null;
  }
}
