/**
 * electron-vite build of the three Electron targets. Our sources are not at electron-vite's default
 * `src/<scope>/index.ts`, so every entry is explicit:
 *   main      src-main/electron/index.ts  -> out/main/index.js     (ESM, Node)
 *   engine    src-main/electron/engine-entry.ts -> out/main/engine.js (ESM; forked as a utilityProcess:
 *             tfjs, the model, dreams and the store never run on the main thread)
 *   compute   src-main/electron/compute-preload.ts -> out/main/compute.mjs (ESM preload of the hidden compute
 *             window that hosts the engine for WebGPU; Electron loads an ESM preload only from a .mjs file)
 *   preload   src-preload/index.ts        -> out/preload/index.cjs (CommonJS, sandbox-safe)
 *   renderer  src-renderer/index.html     -> out/renderer/index.html + assets/
 */
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

const root = import.meta.dirname;
const fromRoot = (path: string): string => resolve(root, path);

export default defineConfig({
  main: {
    build: {
      outDir: fromRoot('out/main'),
      // `dependencies` from package.json stay external (loaded from node_modules at run time). tfjs in
      // particular must never be bundled: its backends register themselves on one global engine and
      // tfjs-node loads a native binding relative to its own package folder.
      externalizeDeps: { include: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] },
      rolldownOptions: {
        input: {
          index: fromRoot('src-main/electron/index.ts'),
          engine: fromRoot('src-main/electron/engine-entry.ts'),
          compute: fromRoot('src-main/electron/compute-preload.ts'),
        },
        output: { entryFileNames: (chunk) => (chunk.name === 'compute' ? '[name].mjs' : '[name].js') },
        // Native and self-registering packages load from node_modules at run time, never bundled.
        external: [/^@tensorflow\//, 'better-sqlite3'],
      },
    },
  },
  preload: {
    build: {
      outDir: fromRoot('out/preload'),
      // A sandboxed preload can `require` only `electron` (and a few polyfilled built-ins), not ESM
      // and not node_modules: bundle everything else into one CommonJS file.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: fromRoot('src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: fromRoot('src-renderer'),
    // No svelte.config.js: Svelte 5 strips TypeScript in <script lang="ts"> by itself.
    plugins: [svelte({ configFile: false })],
    build: {
      outDir: fromRoot('out/renderer'),
      rolldownOptions: {
        input: { index: fromRoot('src-renderer/index.html') },
      },
    },
  },
});
