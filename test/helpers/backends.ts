// Which backends the parameterised suites run on: wasm and cpu always, webgpu when an adapter exists (in CI a
// software Vulkan one), tensorflow when tfjs-node is installed (an optional install; on a dev
// machine without its binary download, a locally built binding; not in CI). TEXTDREAM_REQUIRE_WEBGPU=1 (set by .ci/run) turns a missing adapter into a failure,
// so CI can never pass by skipping the GPU runs.
import { installedNativePackages } from '../../src-main/nativePackages.js';
import { navigatorGPU, probeAdapter } from '../../src-main/webgpu.js';

/** tfjs-node (or -gpu) resolves: then the tensorflow backend is tested too (and fails loudly if it cannot load). */
export function nativeInstalled(): boolean {
  return installedNativePackages().length > 0;
}

async function probe(): Promise<{ ok: boolean; why: string }> {
  try {
    const a = await probeAdapter(await navigatorGPU());
    return a ? { ok: true, why: a.description } : { ok: false, why: 'no WebGPU adapter' };
  } catch (e) {
    return { ok: false, why: e instanceof Error ? e.message : String(e) };
  }
}

/** Whether WebGPU runs here (and on which adapter, or why not); throws when TEXTDREAM_REQUIRE_WEBGPU=1 and it does not. */
export async function webgpuAvailable(): Promise<{ ok: boolean; why: string }> {
  const gpu = await probe();
  if (!gpu.ok && process.env.TEXTDREAM_REQUIRE_WEBGPU === '1') {
    throw new Error(`TEXTDREAM_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${gpu.why}. Install Mesa ≥ 25 (mesa-vulkan-drivers from bookworm-backports), see .ci/run`);
  }
  return gpu;
}

export async function testBackends(): Promise<('wasm' | 'cpu' | 'webgpu' | 'tensorflow')[]> {
  const gpu = await webgpuAvailable();
  return [...(['wasm', 'cpu'] as const), ...(gpu.ok ? (['webgpu'] as const) : []), ...(nativeInstalled() ? (['tensorflow'] as const) : [])];
}
