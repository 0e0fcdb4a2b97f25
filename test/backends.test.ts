// The backend layer: what each backend reports, the tfjs-node shims for Node ≥ 23, the silent-CPU-fallback
// check of tfjs-node-gpu, and `textdream info --backends`.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { initBackend, listBackends, parseBackendRequest } from '../src-main/backend.js';
import { installUtilShims, nativeDeviceNote } from '../src-main/tfjsNodeShims.js';
import { webgpuAvailable } from './helpers/backends.js';
import { spawnCli } from './helpers/cli.js';
import { FIXTURE } from './helpers/shared.js';

describe('tfjs-node shims', () => {
  it('restore the legacy util predicates with their documented meaning, never replacing existing ones', () => {
    const own = () => true;
    const util: Record<string, unknown> = { isArray: own };
    const added = installUtilShims(util);
    expect(added).toContain('isNullOrUndefined');
    expect(added).not.toContain('isArray');
    expect(util.isArray).toBe(own);
    const f = (name: string) => util[name] as (v: unknown) => boolean;
    expect([null, undefined, 0, ''].map(f('isNullOrUndefined'))).toEqual([true, true, false, false]);
    expect([1, '1', NaN].map(f('isNumber'))).toEqual([true, false, true]);
    expect([{}, null, () => 1].map(f('isObject'))).toEqual([true, false, false]);
    expect([1, 'a', null, undefined, {}, () => 1].map(f('isPrimitive'))).toEqual([true, true, true, true, false, false]);
    expect(installUtilShims(util)).toEqual([]);
  });

  it('name a tfjs-node-gpu that silently runs on the CPU, and only that', () => {
    expect(nativeDeviceNote('@tensorflow/tfjs-node-gpu', { isUsingGpuDevice: () => false })).toMatch(/running on the CPU.*CUDA 11\.2/);
    expect(nativeDeviceNote('@tensorflow/tfjs-node-gpu', { isUsingGpuDevice: () => true })).toBeNull();
    expect(nativeDeviceNote('@tensorflow/tfjs-node', { isUsingGpuDevice: () => false })).toBeNull();
    expect(nativeDeviceNote('@tensorflow/tfjs-node-gpu', undefined)).toMatch(/cannot tell/);
  });
});

describe('backends', () => {
  it('parses every backend name and rejects others with the list', () => {
    for (const n of ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']) expect(parseBackendRequest(n, '--backend')).toBe(n);
    expect(() => parseBackendRequest('cuda', '--backend')).toThrow(/unknown backend "cuda".*webgpu/);
  });

  it('report capabilities: precision, and for WebGPU the device and its binding limit', async () => {
    const wasm = await initBackend('wasm');
    expect(wasm).toMatchObject({ name: 'wasm', floatPrecision: 32 });
    const gpu = await webgpuAvailable();
    if (!gpu.ok) return; // (TEXTDREAM_REQUIRE_WEBGPU makes the parameterised suites fail instead)
    const info = await initBackend('webgpu');
    expect(info.name).toBe('webgpu');
    expect(info.device).toBe(gpu.why);
    expect(info.maxBindingBytes).toBeGreaterThanOrEqual(2 ** 27); // WebGPU's guaranteed minimum, 128 MiB
    expect(info.floatPrecision).toBe(32);
  });

  it('auto never picks a software WebGPU adapter, and says why', async () => {
    const list = await listBackends();
    const webgpu = list.find((b) => b.name === 'webgpu')!;
    if (!webgpu.available || !/software adapter/.test(webgpu.detail)) return;
    const r = await spawnCli(['info', '--model', FIXTURE, '--json'], { TEXTDREAM_BACKEND: 'auto' });
    const info = JSON.parse(r.stdout) as { backend: { name: string; notes: string[] } };
    expect(info.backend.name).not.toBe('webgpu');
    // With tfjs-node installed (a dev machine after tools/tfjs-native.sh) auto runs it first and never asks WebGPU.
    if (info.backend.name === 'tensorflow') return;
    expect(info.backend.notes.join(' ')).toMatch(/webgpu: (only a software adapter|no GPU device node)/);
  });

  it('info --backends lists all four, consistent with what is installed and probed', async () => {
    const r = await spawnCli(['info', '--backends', '--json']);
    expect(r.code).toBe(0);
    const { backends } = JSON.parse(r.stdout) as { backends: { name: string; available: boolean; detail: string }[] };
    expect(backends.map((b) => b.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    const require = createRequire(import.meta.url);
    const nativeInstalled = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((p) => {
      try {
        require.resolve(p);
        return true;
      } catch {
        return false;
      }
    });
    expect(backends[0].available).toBe(nativeInstalled);
    if (!nativeInstalled) expect(backends[0].detail).toMatch(/npm install @tensorflow\/tfjs-node/);
    expect(backends[1].available).toBe((await webgpuAvailable()).ok);
    expect(backends[2]).toMatchObject({ available: true });
    expect(backends[3]).toMatchObject({ available: true });
    const text = await spawnCli(['info', '--backends']);
    expect(text.stdout).toMatch(/^wasm +yes /m);
  });
});
