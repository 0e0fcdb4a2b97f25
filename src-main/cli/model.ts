// What model commands share: start the backend the user asked for, find the model, load it with download
// progress on stderr. Every line here goes to stderr so that stdout stays clean for --json.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendInfo } from '../backend.js';
import type { DownloadProgress } from '../model/hub.js';
import { defaultModelDir, loadModel, modelSpec, type LoadedModel } from '../model/load.js';
import { UsageError, type CommandIO } from './command.js';
import { settingsFromEnv } from '../environment.js';

export interface OpenedModel {
  lm: LoadedModel;
  backend: BackendInfo;
  /** The --model value as resolved (flag, TEXTDREAM_MODEL or the default path). */
  spec: string;
}

/** `wasm (simd)`, `tensorflow (@tensorflow/tfjs-node)`, `cpu`. */
export function describeBackend(b: BackendInfo): string {
  if (b.name === 'wasm') return `wasm (${b.simd ? 'simd' : 'no simd'})`;
  if (b.name === 'tensorflow') return `tensorflow (${b.provider})`;
  if (b.name === 'webgpu') return `webgpu (${b.device ?? 'unnamed adapter'})`;
  return b.name;
}

/** Starts the backend (flag, else TEXTDREAM_BACKEND, else auto) and says on stderr which one runs. */
export async function startBackend(flag: string | undefined, io: CommandIO): Promise<BackendInfo> {
  const request = flag ?? settingsFromEnv(io.env).backend ?? 'auto';
  const info = await initBackend(request, flag !== undefined ? '--backend' : 'TEXTDREAM_BACKEND');
  io.stderr(`backend: ${describeBackend(info)}\n`);
  return info;
}

/** The model spec to load; the embedded default gets its own message when it has not been built yet. */
export function chooseModel(flag: string | undefined, io: CommandIO): string {
  if (flag === '') throw new UsageError('--model is empty: give a model folder or a Hugging Face id');
  const fallback = defaultModelDir(io.env);
  // An empty TEXTDREAM_MODEL counts as unset (as shells leave it after `TEXTDREAM_MODEL= cmd`).
  const spec = modelSpec(flag ?? settingsFromEnv(io.env).model ?? fallback);
  if (spec === fallback && !existsSync(join(fallback, 'config.json'))) {
    throw new UsageError(
      `the embedded default model is missing at ${fallback}: run \`textdream train-lm\` or pass --model <dir|hub id>`,
    );
  }
  return spec;
}

/** Download progress as plain lines: one per file when it completes (redrawn in place on a terminal). */
export function progressPrinter(io: CommandIO, spec: string): (p: DownloadProgress) => void {
  let announced = false;
  const last = new Map<string, { loaded: number; total: number | null }>();
  const line = (file: string) => {
    const p = last.get(file) ?? { loaded: 0, total: null };
    return `download: ${file} ${p.loaded}/${p.total ?? '?'} bytes`;
  };
  return (p) => {
    if (p.type === 'initiate') {
      if (!announced) io.stderr(`downloading ${spec}\n`);
      announced = true;
      last.set(p.file, { loaded: 0, total: null });
    } else if (p.type === 'progress') {
      last.set(p.file, { loaded: p.loaded, total: p.total });
      if (io.stderrIsTTY) io.stderr(`\r${line(p.file)}`);
    } else if (p.type === 'done') {
      io.stderr(`${io.stderrIsTTY ? '\r' : ''}${line(p.file)}\n`);
    }
  };
}

/** Backend, then model: the common start of every command that runs a model. */
export async function openModel(values: { model?: string; backend?: string }, io: CommandIO): Promise<OpenedModel> {
  const spec = chooseModel(values.model, io);
  const backend = await startBackend(values.backend, io);
  const lm = await loadModel(spec, { env: io.env, onProgress: progressPrinter(io, spec) });
  return { lm, backend, spec };
}
