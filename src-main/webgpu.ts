// WebGPU for the engine: Dawn through the npm `webgpu` package in Node (CLI, server, workers), or the host's own
// navigator.gpu (a browser or Electron window). tfjs-webgpu returns zeros after a GPU validation error instead of
// throwing, so every device error is captured here and turned into a failed read: never a silent zero.
import * as tf from '@tensorflow/tfjs-core';
import { firstLine } from './errorText.js';

export class GPUError extends Error {
  override name = 'GPUError';
}

export interface WebGPUAdapterInfo {
  /** Vendor and device as the adapter reports them, e.g. `llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)`. */
  description: string;
  /** A CPU rasteriser (lavapipe/llvmpipe, SwiftShader): correct but slower than wasm. */
  software: boolean;
  maxBindingBytes: number;
}

// Minimal structural types: the engine is compiled without DOM or @webgpu/types.
interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  limits: { maxStorageBufferBindingSize: number };
}
interface GPULike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface DeviceLike {
  limits: { maxStorageBufferBindingSize: number };
  addEventListener(type: 'uncapturederror', f: (e: { error: { message: string } }) => void): void;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|basic render/i;

/** navigator.gpu, installing Dawn's from the `webgpu` package where the host has none (Node). */
export async function navigatorGPU(): Promise<GPULike> {
  const g = globalThis as { navigator?: { gpu?: GPULike } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  let mod: { create: (flags: string[]) => unknown; globals: object };
  try {
    mod = (await import(/* @vite-ignore */ 'webgpu')) as typeof mod;
  } catch (e) {
    throw new GPUError(`the optional package "webgpu" (Dawn for Node) is not installed or cannot load here (${firstLine(e)}): run npm install webgpu, or use --backend wasm`);
  }
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([]) as GPULike;
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  return gpu;
}

export async function probeAdapter(gpu: GPULike): Promise<WebGPUAdapterInfo | null> {
  const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!a) return null;
  const i = a.info ?? {};
  const description = [i.description, i.vendor && `(${i.vendor}${i.architecture ? ' ' + i.architecture : ''})`].filter(Boolean).join(' ') || i.device || 'unnamed adapter';
  return {
    description,
    software: Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter) || SOFTWARE.test(description),
    maxBindingBytes: a.limits.maxStorageBufferBindingSize,
  };
}

const pending: string[] = [];

/** Throw (once) for any GPU error captured since the last check. */
export function throwIfGPUError(): void {
  if (!pending.length) return;
  const all = pending.splice(0);
  const first = all[0].split('\n')[0];
  const hint = /binding size/i.test(first)
    ? 'a tensor exceeds the GPU storage-binding limit; textdream splits the vocabulary matrices for this, so please report the operation, and use --backend wasm meanwhile'
    : 'use --backend wasm, or report the message';
  throw new GPUError(`WebGPU reported ${all.length} error(s); the results since then are invalid (WebGPU yields zeros after an error): ${first} — ${hint}`);
}

/**
 * Start tfjs's webgpu backend and make it fail loudly: device errors are captured and rethrown by the next read,
 * and a synchronous read in Node (unsupported there: tfjs needs OffscreenCanvas) names the problem.
 */
export async function startWebGPUBackend(): Promise<{ maxBindingBytes: number }> {
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new GPUError('tfjs could not start its webgpu backend on this adapter: use --backend wasm');
  await tf.ready();
  const backend = tf.backend() as unknown as {
    device: DeviceLike;
    read: (id: object) => Promise<unknown>;
    readSync: (id: object) => unknown;
    tensorMap: { get: (id: object) => { values?: unknown } | undefined };
  };
  pending.length = 0;
  backend.device.addEventListener('uncapturederror', (e) => pending.push(e.error.message));
  const read = backend.read.bind(backend);
  backend.read = async (id) => {
    const v = await read(id);
    throwIfGPUError();
    return v;
  };
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'undefined') {
    const readSync = backend.readSync.bind(backend);
    backend.readSync = (id) => {
      if (backend.tensorMap.get(id)?.values == null) {
        throw new GPUError('a synchronous read (dataSync/arraySync) of a GPU tensor: WebGPU in Node reads asynchronously only, so this code path must await tensor.data()');
      }
      return readSync(id);
    };
  }
  return { maxBindingBytes: backend.device.limits.maxStorageBufferBindingSize };
}

