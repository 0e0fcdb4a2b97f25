// Backend selection for TensorFlow.js. The engine imports tfjs-core only; each backend registers itself.
// wasm can fall back to cpu silently, so we always report tf.getBackend() after setting, never the request.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export const BACKEND_NAMES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  /** What was asked for (flag, environment or default). */
  requested: BackendRequest;
  /** The tfjs backend that actually runs: `tensorflow`, `wasm` or `cpu`. */
  name: string;
  /** Which package provides it, e.g. `@tensorflow/tfjs-node-gpu`. */
  provider: string;
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
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
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

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0].slice(0, 160);
}

/**
 * Select and start a backend. `auto` prefers native TensorFlow, then wasm, then cpu. An explicit request
 * that cannot be met fails loudly rather than running somewhere slower than the user asked for.
 */
export async function initBackend(request?: BackendRequest | string, source = 'TEXTDREAM_BACKEND'): Promise<BackendInfo> {
  const req = parseBackendRequest(request ?? process.env.TEXTDREAM_BACKEND, source);
  if (current && (req === current.requested || req === current.name)) return current;
  const notes: string[] = [];
  tf.env().set('PROD', true);
  let provider = '';
  if (req === 'tensorflow' || req === 'auto') {
    const pkg = await loadNative(notes);
    if (pkg && (await tf.setBackend('tensorflow'))) provider = pkg;
    else if (req === 'tensorflow') {
      throw new BackendError(
        `backend "tensorflow" requested but unavailable: ${notes.join('; ')}. ` +
          'Install @tensorflow/tfjs-node (or -node-gpu), run ../shared/tools/tfjs-native.sh, or use --backend wasm.',
      );
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
  current = { requested: req, name, provider, simd, notes };
  return current;
}

export function backendInfo(): BackendInfo | null {
  return current;
}
