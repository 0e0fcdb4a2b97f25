// @tensorflow/tfjs-node(-gpu) 4.22.0 calls util.isNullOrUndefined and friends, which Node 23 removed (so did the
// Node 24 inside Electron ≥ 40): "util.isNullOrUndefined is not a function". Put back the ones it uses, with
// their documented meanings, before the package loads. Existing functions are never replaced.
type UtilLike = Record<string, unknown>;

const SHIMS: Record<string, (v: unknown) => boolean> = {
  isArray: (v) => Array.isArray(v),
  isBoolean: (v) => typeof v === 'boolean',
  isNull: (v) => v === null,
  isNullOrUndefined: (v) => v === null || v === undefined,
  isNumber: (v) => typeof v === 'number',
  isString: (v) => typeof v === 'string',
  isSymbol: (v) => typeof v === 'symbol',
  isUndefined: (v) => v === undefined,
  isObject: (v) => v !== null && typeof v === 'object',
  isFunction: (v) => typeof v === 'function',
  isPrimitive: (v) => v === null || (typeof v !== 'object' && typeof v !== 'function'),
};

/** Adds the missing legacy predicates to `util`; returns the names it added. */
export function installUtilShims(util: UtilLike): string[] {
  const added: string[] = [];
  for (const [name, f] of Object.entries(SHIMS)) {
    if (typeof util[name] === 'function') continue;
    Object.defineProperty(util, name, { value: f, writable: true, configurable: true });
    added.push(name);
  }
  return added;
}

/** What tfjs-node-gpu is really using: it falls back to the CPU silently when CUDA 11.2/cuDNN 8.1 are missing. */
export function nativeDeviceNote(pkg: string, binding: { isUsingGpuDevice?: () => boolean } | undefined): string | null {
  if (!pkg.endsWith('-gpu')) return null;
  if (typeof binding?.isUsingGpuDevice !== 'function') return `${pkg}: cannot tell whether it uses the GPU (no isUsingGpuDevice in its binding)`;
  if (binding.isUsingGpuDevice()) return null;
  return `${pkg} is running on the CPU, not the GPU: its libtensorflow 2.9.1 needs CUDA 11.2 and cuDNN 8.1 (CUDA 12 is not supported); install those, or use --backend webgpu`;
}
