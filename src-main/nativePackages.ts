// The optional native TensorFlow packages, in the order `auto` tries them, and which of them this install can
// resolve. No tfjs import: the Electron main process asks this before choosing where the engine runs.
import { createRequire } from 'node:module';

export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** The native packages that resolve from here (installed), whether or not they would load. */
export function installedNativePackages(): (typeof NATIVE_PACKAGES)[number][] {
  const require = createRequire(import.meta.url);
  return NATIVE_PACKAGES.filter((p) => {
    try {
      require.resolve(p);
      return true;
    } catch {
      return false;
    }
  });
}
