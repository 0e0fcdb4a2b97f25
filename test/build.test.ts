/**
 * `electron-vite build` produces the three Electron targets where main/window.ts expects them, plus the
 * engine's utility-process entry; the preload is a sandbox-safe CommonJS file that requires nothing but
 * `electron`, and the main process never loads the engine (tfjs, the model, the store) itself.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = (path: string): string => join(root, 'out', path);

beforeAll(async () => {
  await promisify(execFile)('npx', ['electron-vite', 'build'], {
    cwd: root,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
}, 120_000);

describe('electron-vite build', () => {
  it('writes main, engine, preload and renderer outputs', () => {
    for (const file of ['main/index.js', 'main/engine.js', 'main/compute.mjs', 'preload/index.cjs', 'renderer/index.html']) {
      expect(existsSync(out(file)), `out/${file}`).toBe(true);
    }
  });

  it('builds main as an ES module that keeps electron external', () => {
    const main = readFileSync(out('main/index.js'), 'utf8');
    expect(main).toMatch(/^import .* from "electron";/m);
    expect(main).toContain('../preload/index.cjs');
    expect(main).toContain('../renderer/index.html');
  });

  it('keeps heavy compute out of the main process: only the utility-process and compute-window entries load the engine', () => {
    const importsOf = (file: string, seen = new Set<string>()): string[] => {
      if (seen.has(file)) return [];
      seen.add(file);
      const code = readFileSync(file, 'utf8');
      const specs = [...code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s*"([^"]+)"|import\(\s*"([^"]+)"\s*\)|(?:^|\n)import\s+"([^"]+)"/g)].map((m) => m[1] ?? m[2] ?? m[3]);
      return specs.flatMap((spec) => (spec.startsWith('.') ? [spec, ...importsOf(join(dirname(file), spec), seen)] : [spec]));
    };
    const main = importsOf(out('main/index.js'));
    expect(main).toContain('electron');
    expect(main.filter((s) => /tensorflow|better-sqlite3|tokenizers/.test(s))).toEqual([]);
    const mainCode = readFileSync(out('main/index.js'), 'utf8');
    expect(mainCode).toContain('utilityProcess');
    expect(mainCode).toContain('engine.js');

    const engine = importsOf(out('main/engine.js'));
    expect(engine).toContain('@tensorflow/tfjs-core');
    expect(engine).not.toContain('electron'); // parentPort is a global in a utility process

    // The WebGPU host: an ESM preload (.mjs, the only extension Electron loads an ESM preload from) that hosts the
    // same engine and speaks to the main process through ipcRenderer.
    const compute = importsOf(out('main/compute.mjs'));
    expect(compute).toContain('electron');
    expect(compute).toContain('@tensorflow/tfjs-core');
    expect(compute).toContain('better-sqlite3');
    expect(mainCode).toContain('compute.mjs');
    expect(mainCode).toMatch(/sandbox:\s*false/); // the compute window (its preload needs Node) …
    expect(mainCode).toMatch(/sandbox:\s*true/); // … and the workbench window, sandboxed
  });

  it('builds the preload as CommonJS whose only require is electron', () => {
    const preload = readFileSync(out('preload/index.cjs'), 'utf8');
    const required = [...preload.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(required).toEqual(['electron']);
    expect(preload).not.toMatch(/^\s*(import|export)\s/m);
    expect(preload).toContain('exposeInMainWorld');
  });

  it('emits a renderer page with a CSP that loads the bundled script', () => {
    const html = readFileSync(out('renderer/index.html'), 'utf8');
    expect(html).toMatch(/http-equiv="Content-Security-Policy"/);
    const script = /<script type="module"[^>]*src="\.\/(assets\/[^"]+\.js)"/.exec(html);
    expect(script, 'module script tag').not.toBeNull();
    expect(existsSync(out(`renderer/${script![1]}`))).toBe(true);
    expect(html).not.toContain('main.ts');
  });

  // The root tsconfig has Node types and leaves the renderer out; it has its own (DOM, no Node).
  it('type-checks the renderer against its own tsconfig', async () => {
    await promisify(execFile)('npx', ['tsc', '--noEmit', '-p', 'src-renderer/tsconfig.json'], { cwd: root });
  }, 60_000);
});
