// A new dreaming method is one file and one registry line. This test proves it on a copy of the program: it adds a
// toy method (random token flips, with one setting of its own) to a copy of src-main, checks that nothing else
// differs from the repository, then drives the toy through the CLI (flags, help, range errors, a run) and the
// server's API (the method list, the form's fields, the JSON schema, validation, a run).
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, type CliResult } from './helpers/cli.js';
import { call, invoke } from './helpers/serve.js';
import { FIXTURE } from './helpers/shared.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const copy = mkdtempSync(join(tmpdir(), 'textdream-toy-method-'));

/** The whole of the toy method: its own setting, the shared ones it reads, and how it builds a DreamMethod. */
const TOY = `// \`toy\`: random search. Each step flips \`flips\` random positions of every dream to random tokens.
import { initialTokens } from '../params.js';
import { integer } from '../settings/kinds.js';
import { defineMethod } from './define.js';

export const settings = {
  flips: integer({ min: 1, max: 8, default: 1, arg: '<n>', description: 'positions changed per dream per step' }),
};

export default defineMethod(settings, {
  summary: 'random token flips (a toy)',
  order: 100,
  uses: ['batch'],
  async build({ ctx, cfg, startTokens }) {
    let rows = (await startTokens(cfg.batch)).tokens;
    let step = 0;
    return {
      name: 'toy',
      async step() {
        step++;
        const noise = initialTokens(ctx.model.config.vocabSize, rows.length, 2 * cfg.flips, cfg.seed + step);
        rows = rows.map((row, i) => {
          const next = [...row];
          for (let f = 0; f < cfg.flips; f++) next[noise[i][2 * f] % row.length] = noise[i][2 * f + 1];
          return next;
        });
        return { soft: NaN, fluencyCE: NaN, forwardEquivalents: 0 };
      },
      current: async () => rows,
      dispose() {},
    };
  },
});
`;

function textdream(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(copy, 'bin', 'textdream.js'), ...args], { cwd: copy, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(() => {
  for (const part of ['bin', 'src-main']) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) cpSync(join(ROOT, file), join(copy, file));
  for (const shared of ['node_modules', 'resources']) symlinkSync(join(ROOT, shared), join(copy, shared));
  // The change a method author makes: one new file, one line in the registry.
  writeFileSync(join(copy, 'src-main/dream/methods/toy.ts'), TOY);
  appendFileSync(join(copy, 'src-main/dream/methods/registry.ts'), "export * as toy from './toy.js';\n");
});

afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('a toy method: one file and one registry line', () => {
  it('is the only difference from the repository', () => {
    let diff = '';
    try {
      execFileSync('diff', ['-r', '-q', join(ROOT, 'src-main'), join(copy, 'src-main')], { encoding: 'utf8' });
    } catch (e) {
      diff = (e as { stdout: string }).stdout;
    }
    const lines = diff.trim().split('\n').sort();
    expect(lines).toEqual([`Files ${join(ROOT, 'src-main/dream/methods/registry.ts')} and ${join(copy, 'src-main/dream/methods/registry.ts')} differ`, `Only in ${join(copy, 'src-main/dream/methods')}: toy.ts`]);
    const added = readFileSync(join(copy, 'src-main/dream/methods/registry.ts'), 'utf8').split('\n').length - readFileSync(join(ROOT, 'src-main/dream/methods/registry.ts'), 'utf8').split('\n').length;
    expect(added).toBe(1);
  });

  it('the CLI: --help lists its setting, ranges are checked, and it dreams with hard values', async () => {
    const help = await textdream(['dream', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--method <[a-z|]*toy[a-z|]*>/);
    expect(help.stdout).toMatch(/--flips <n>\s+toy: positions changed per dream per step \(default 1\)/);

    const bad = await textdream(['dream', '--model', FIXTURE, '--layer', '1', '--neuron', '7', '--method', 'toy', '--flips', '9', '--backend', 'wasm']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error: --flips 9 is out of range: use 1-8/);

    const r = await textdream(['dream', '--model', FIXTURE, '--layer', '1', '--neuron', '7', '--method', 'toy', '--flips', '3', '--batch', '2', '--seq-len', '5', '--steps', '4', '--every', '1', '--backend', 'wasm', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const summary = lines.at(-1);
    expect(summary.type).toBe('summary');
    expect(summary.method).toBe('toy');
    expect(summary.config).toMatchObject({ method: 'toy', flips: 3, batch: 2, seqLen: 5 });
    const steps = lines.filter((l) => l.type === 'step');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    // Random flips change the texts from step to step; every value is a hard one (a finite re-measurement).
    expect(new Set(steps.map((s) => s.dreams[0].text)).size).toBeGreaterThan(1);
    expect(Number.isFinite(summary.best.value)).toBe(true);
  });
});

describe('a toy method through the server API', () => {
  let server: { url: string; stop: () => void } | undefined;

  beforeAll(async () => {
    const child = spawn(process.execPath, [join(copy, 'bin', 'textdream.js'), 'serve', '--model', FIXTURE, '--backend', 'wasm', '--port', '0', '--db', ':memory:'], { cwd: copy, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1].replace(/\/$/, ''));
      });
    });
    server = { url, stop: () => child.kill('SIGTERM') };
  }, 120_000);

  afterAll(() => server?.stop());

  it('lists the method, draws its field, publishes its JSON schema, checks it and runs it', async () => {
    const url = server!.url;
    const defaults = await invoke<{ methods: string[]; fields: { key: string; flag: string; kind: string; min: number; max: number; methods?: string[] }[]; schema: { properties: Record<string, { minimum?: number; maximum?: number; default?: unknown }> }; settings: Record<string, unknown>; summaries: Record<string, string> }>(url, 'dreams.defaults', undefined);
    expect(defaults.methods).toContain('toy');
    expect(defaults.summaries.toy).toBe('random token flips (a toy)');
    expect(defaults.fields.find((f) => f.key === 'flips')).toMatchObject({ flag: 'flips', kind: 'integer', min: 1, max: 8, methods: ['toy'] });
    expect(defaults.fields.find((f) => f.key === 'batch')!.methods).toContain('toy');
    expect(defaults.schema.properties.flips).toMatchObject({ minimum: 1, maximum: 8, default: 1 });
    expect(defaults.settings.flips).toBe(1);

    const target = { kind: 'neuron', layer: 1, neuron: 7 };
    const refused = await call(url, 'dreams.start', { settings: { target, method: 'toy', flips: 99 } });
    expect(refused.body.error).toMatchObject({ name: 'InvalidRequestError', message: 'settings.flips must be an integer in 1-8, got 99' });

    // serve loads --model in the background.
    await expect.poll(async () => (await invoke(url, 'models.state', undefined)).current !== null, { timeout: 60_000 }).toBe(true);
    const { runId } = await invoke<{ runId: string }>(url, 'dreams.start', { settings: { target, method: 'toy', flips: 2, batch: 2, seqLen: 4, steps: 3, every: 1 } });
    let detail: { status: string; config: Record<string, unknown>; records: unknown[] } | undefined;
    for (let i = 0; i < 600; i++) {
      detail = await invoke(url, 'dreams.get', { runId });
      if (detail!.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(detail!.status).toBe('completed');
    expect(detail!.config).toMatchObject({ method: 'toy', flips: 2 });
    expect(detail!.records).toHaveLength(3);
  });
});
