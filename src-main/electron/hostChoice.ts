/**
 * Where the desktop app runs its engine, from the backend asked for: WebGPU needs a renderer (Electron's own
 * navigator.gpu), the CPU backends a utility process. Pure, so it is tested without Electron.
 */
export type EngineHostKind = 'utility-process' | 'compute-window';

export interface HostFacts {
  /** @tensorflow/tfjs-node(-gpu) resolves from the app: `auto` would pick it first. */
  nativeInstalled: boolean;
  /** `app.getGPUFeatureStatus().webgpu`: 'enabled' means hardware accelerated ('disabled_software', ... otherwise). */
  webgpuStatus: string | undefined;
}

export function engineHostKind(requested: string | undefined, facts: HostFacts): EngineHostKind {
  const req = (requested ?? 'auto').trim().toLowerCase() || 'auto';
  if (req === 'webgpu') return 'compute-window';
  // `auto` in the engine prefers native TensorFlow, then a hardware WebGPU adapter, then wasm: mirror that here so
  // the engine lands in the host where its first choice can run.
  if (req === 'auto' && !facts.nativeInstalled && facts.webgpuStatus === 'enabled') return 'compute-window';
  return 'utility-process';
}
