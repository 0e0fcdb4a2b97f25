// Backend selection for TensorFlow.js. The engine imports tfjs-core only; each backend registers itself.
// wasm can fall back to cpu silently, so we always report tf.getBackend() after setting, never the request.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readdirSync } from 'node:fs';
import { installedNativePackages, NATIVE_PACKAGES } from './nativePackages.js';
import nodeUtil from 'node:util';
import { installUtilShims, nativeDeviceNote } from './tfjsNodeShims.js';
import { firstLine } from './errorText.js';
import { settingsFromEnv } from './environment.js';

export const BACKEND_NAMES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  /** What was asked for (flag, environment or default). */
  requested: BackendRequest;
  /** The tfjs backend that actually runs: `tensorflow`, `webgpu`, `wasm` or `cpu`. */
  name: string;
  /** Which package provides it, e.g. `@tensorflow/tfjs-node-gpu`. */
  provider: string;
  /** The device it computes on, when it says (a GPU adapter's description). */
  device?: string;
  /** Bits of float precision of its kernels (tfjs: 32, or 16 on some GPUs). */
  floatPrecision: number;
  /** Largest tensor a kernel may bind, in bytes (GPU storage-binding limit); vocabulary matrices are split to fit. */
  maxBindingBytes?: number;
  simd?: boolean;
  /** Why faster backends were not used, for `info` and logs. */
  notes: string[];
}

export class BackendError extends Error {
  override name = 'BackendError';
}

let current: BackendInfo | null = null;

export function parseBackendRequest(value: string | undefined, source: string): BackendRequest {
  const v = (value ?? 'auto').trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendRequest;
  throw new BackendError(`${source}: unknown backend "${value}". Use one of: ${BACKEND_NAMES.join(', ')}.`);
}

/** Try to load tfjs-node-gpu, then tfjs-node. They are optional dependencies; absence is normal offline. */
async function loadNative(notes: string[]): Promise<string | null> {
  installUtilShims(nodeUtil as unknown as Record<string, unknown>);
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(/* @vite-ignore */ pkg);
      if (tf.findBackend('tensorflow')) return pkg;
      notes.push(`${pkg} loaded but registered no "tensorflow" backend`);
    } catch (e) {
      notes.push(`${pkg}: not available (${firstLine(e)})`);
    }
  }
  return null;
}

async function useWasm(notes: string[]): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const ok = await tf.setBackend('wasm');
    await tf.ready();
    if (ok && tf.getBackend() === 'wasm') return true;
    notes.push(`wasm: setBackend returned ${ok}, running ${tf.getBackend()}`);
  } catch (e) {
    notes.push(`wasm: failed to start (${firstLine(e)})`);
  }
  return false;
}

/** WebGPU when an adapter is there; `auto` skips software adapters, which are slower than wasm. */
async function startWebGPU(explicit: boolean, notes: string[]): Promise<{ provider: string; device: string; maxBindingBytes: number } | null> {
  if (!explicit && !hasGpuDeviceNode()) {
    // Probing would only find a software rasteriser (and Dawn logs its limits on stderr): not worth it for auto.
    notes.push('webgpu: no GPU device node (/dev/dri/renderD*, /dev/nvidia*), so auto does not probe it; --backend webgpu tries a software adapter');
    return null;
  }
  try {
    const { navigatorGPU, probeAdapter, startWebGPUBackend } = await import('./webgpu.js');
    const adapter = await probeAdapter(await navigatorGPU());
    if (!adapter) {
      notes.push('webgpu: no adapter (no GPU driver, or no Vulkan/Metal/D3D12 ICD)');
      return null;
    }
    if (adapter.software && !explicit) {
      notes.push(`webgpu: only a software adapter (${adapter.description}), slower than wasm; --backend webgpu forces it`);
      return null;
    }
    const { maxBindingBytes } = await startWebGPUBackend();
    const host = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? '';
    return { provider: /Electron|Chrome/.test(host) ? 'navigator.gpu' : 'webgpu (Dawn)', device: adapter.description, maxBindingBytes };
  } catch (e) {
    notes.push(`webgpu: ${firstLine(e)}`);
    return null;
  }
}

/** Linux without a DRM render node or an NVIDIA device has no GPU to offer WebGPU (elsewhere: assume one may). */
function hasGpuDeviceNode(): boolean {
  if (process.platform !== 'linux') return true;
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return list('/dev/dri').some((f) => f.startsWith('renderD')) || list('/dev').some((f) => /^nvidia\d+$/.test(f));
}

/** TEXTDREAM_WEBGPU_MAX_BINDING lowers (never raises) the binding limit the engine plans for: tests use it. */
function bindingLimitOverride(limit: number): number {
  const v = settingsFromEnv().webgpuMaxBinding;
  if (v === undefined || v === '') return limit;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1024) throw new BackendError(`TEXTDREAM_WEBGPU_MAX_BINDING="${v}": give a byte count ≥ 1024, or unset it`);
  return Math.min(n, limit);
}


/**
 * Select and start a backend. `auto` prefers native TensorFlow, then WebGPU on a hardware adapter, then wasm, then cpu. An explicit request
 * that cannot be met fails loudly rather than running somewhere slower than the user asked for.
 */
export async function initBackend(request?: BackendRequest | string, source = 'TEXTDREAM_BACKEND'): Promise<BackendInfo> {
  const req = parseBackendRequest(request ?? settingsFromEnv().backend, source);
  if (current && (req === current.requested || req === current.name)) return current;
  const notes: string[] = [];
  tf.env().set('PROD', true);
  let provider = '';
  if (req === 'tensorflow' || req === 'auto') {
    const pkg = await loadNative(notes);
    if (pkg && (await tf.setBackend('tensorflow'))) {
      provider = pkg;
      const note = nativeDeviceNote(pkg, (tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } }).binding);
      if (note) notes.push(note);
    }
    else if (req === 'tensorflow') {
      throw new BackendError(
        `backend "tensorflow" requested but unavailable: ${notes.join('; ')}. ` +
          'Install @tensorflow/tfjs-node (`npm install @tensorflow/tfjs-node`, or -node-gpu for CUDA 11.2), or use --backend wasm.',
      );
    }
  }
  let device: string | undefined;
  let maxBindingBytes: number | undefined;
  if (!provider && (req === 'webgpu' || req === 'auto')) {
    const gpu = await startWebGPU(req === 'webgpu', notes);
    if (gpu) {
      provider = gpu.provider;
      device = gpu.device;
      maxBindingBytes = bindingLimitOverride(gpu.maxBindingBytes);
    } else if (req === 'webgpu') {
      throw new BackendError(`backend "webgpu" requested but unavailable: ${notes.join('; ')}. Use --backend wasm.`);
    }
  }
  if (!provider && (req === 'wasm' || req === 'auto')) {
    if (await useWasm(notes)) provider = '@tensorflow/tfjs-backend-wasm';
    else if (req === 'wasm') throw new BackendError(`backend "wasm" requested but failed: ${notes.join('; ')}. Use --backend cpu.`);
  }
  if (!provider) {
    await tf.setBackend('cpu');
    provider = '@tensorflow/tfjs-backend-cpu';
  }
  await tf.ready();
  const name = tf.getBackend();
  const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : undefined;
  current = { requested: req, name, provider, device, floatPrecision: tf.backend().floatPrecision(), maxBindingBytes, simd, notes };
  return current;
}

export function backendInfo(): BackendInfo | null {
  return current;
}

export interface BackendAvailability {
  name: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  available: boolean;
  /** The device or package when available, or why not and what to do. */
  detail: string;
}

/** What each backend would do on this machine, without switching to it (`textdream info --backends`). */
export async function listBackends(): Promise<BackendAvailability[]> {
  const installed = installedNativePackages();
  const major = Number(process.versions.node.split('.')[0]);
  const tensorflow: BackendAvailability = installed.length
    ? { name: 'tensorflow', available: true, detail: `${installed.join(', ')} installed${major >= 23 ? ` (Node ${major}: util shims applied)` : ''}; the -gpu package needs CUDA 11.2 + cuDNN 8.1` }
    : { name: 'tensorflow', available: false, detail: 'not installed: npm install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1, Node < 23 without our shims)' };
  let webgpu: BackendAvailability;
  try {
    const { navigatorGPU, probeAdapter } = await import('./webgpu.js');
    const a = await probeAdapter(await navigatorGPU());
    webgpu = a
      ? { name: 'webgpu', available: true, detail: `${a.description}; binding limit ${(a.maxBindingBytes / 2 ** 20).toFixed(0)} MiB${a.software ? '; software adapter: auto prefers wasm, --backend webgpu forces it' : ''}` }
      : { name: 'webgpu', available: false, detail: 'no adapter: install a GPU driver with Vulkan (Linux), Metal (macOS) or D3D12 (Windows) support' };
  } catch (e) {
    webgpu = { name: 'webgpu', available: false, detail: firstLine(e) };
  }
  await import('@tensorflow/tfjs-backend-wasm'); // registers the flag read below
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  return [
    tensorflow,
    webgpu,
    { name: 'wasm', available: true, detail: `@tensorflow/tfjs-backend-wasm, ${simd ? 'SIMD' : 'no SIMD'}, one thread (tfjs has no wasm threads in Node)` },
    { name: 'cpu', available: true, detail: '@tensorflow/tfjs-backend-cpu: plain JavaScript, the reference' },
  ];
}
