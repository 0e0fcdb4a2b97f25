// The CLI as users run it (`node bin/textdream.js`), checked against the fixture's independent reference values.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsFile } from '../src-main/model/safetensors.js';
import { main } from '../src-main/cli/main.js';
import { cleanEnv, runCli, spawnCli } from './helpers/cli.js';
import { startHubServer, type HubServer } from './helpers/hubServer.js';
import { FIXTURE, expected } from './helpers/shared.js';

const config = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')) as Record<string, number>;
const fox = expected.tokens.fox;
const WASM = ['--backend', 'wasm'];

/** GPT-2's parameter count from the config: embeddings, L blocks, final norm (lm_head tied to wte). */
function gpt2Parameters(c: Record<string, number>): number {
  const d = c.n_embd;
  const m = c.n_inner ?? 4 * d;
  const block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * m + m) + (m * d + d);
  return c.vocab_size * d + c.n_positions * d + c.n_layer * block + 2 * d;
}

function parseJSON<T>(r: { code: number; stdout: string; stderr: string }): T {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

describe('textdream CLI (child process)', () => {
  it('prints help listing every command, and exits 2 on an unknown command', async () => {
    const help = await spawnCli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['info', 'forward', 'lens']) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(help.stdout).toContain('--model <dir|hub id>');

    const bad = await spawnCli(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: unknown command "frobnicate". Commands: build-judge, dream, eval-lm, explain, forward, history, info, interpolate, lens, mnist, neuron, scan, serve, sweep, train-ae, train-lm, train-mnist, train-sae, worker. Run `textdream --help` for more.\n');
  });

  it('info --json reports the config, the closed-form parameter count, files and the backend', async () => {
    const r = await spawnCli(['info', '--model', FIXTURE, ...WASM, '--json']);
    const info = parseJSON<{
      config: Record<string, number>;
      parameters: number;
      dtypes: string[];
      files: string[];
      unexpected: string[];
      source: { kind: string; dir: string };
      backend: { name: string; simd: boolean };
    }>(r);
    expect(info.config).toMatchObject({
      layers: config.n_layer,
      d_model: config.n_embd,
      heads: config.n_head,
      d_mlp: config.n_inner,
      context: config.n_positions,
      vocab: config.vocab_size,
    });
    expect(info.parameters).toBe(gpt2Parameters(config));
    expect(info.parameters).toBe(1_635_744);
    expect(info.dtypes).toEqual(['F32']);
    expect(info.files).toEqual([join(FIXTURE, 'model.safetensors')]);
    expect(info.unexpected).toEqual([]);
    expect(info.source).toEqual({ kind: 'folder', dir: FIXTURE });
    expect(info.backend.name).toBe('wasm');
    expect(r.stderr).toMatch(/^backend: wasm \((simd|no simd)\)\n$/);
  });

  it('forward --json gives the token ids, the reference loss and the reference top neurons of layer 1', async () => {
    const r = await spawnCli(['forward', '--model', FIXTURE, ...WASM, '--text', fox.text, '--layer', '1', '--top', '5', '--json']);
    const out = parseJSON<{
      ids: number[];
      hook: string;
      loss: number;
      tokens: { id: number; text: string; neurons: { neuron: number; value: number }[] }[];
    }>(r);
    expect(out.ids).toEqual(fox.ids);
    expect(out.tokens.map((t) => t.id)).toEqual(fox.ids);
    expect(out.tokens.map((t) => t.text).join('')).toBe(fox.text);
    expect(out.hook).toBe('blocks.1.mlp.hook_post');
    expect(Math.abs(out.loss - expected.loss_fox)).toBeLessThan(1e-4);

    const ref = (await readSafetensorsFile(join(FIXTURE, 'expected.fox.safetensors'))).get('mlp_post.1')!;
    const [T, M] = ref.shape;
    expect(out.tokens).toHaveLength(T);
    out.tokens.forEach((tok, t) => {
      const row = Array.from(ref.data.subarray(t * M, (t + 1) * M));
      const best = [...row].sort((a, b) => b - a).slice(0, 5);
      expect(tok.neurons).toHaveLength(5);
      tok.neurons.forEach((n, j) => {
        expect(Math.abs(n.value - row[n.neuron]), `token ${t} neuron ${n.neuron}`).toBeLessThan(1e-4);
        expect(Math.abs(n.value - best[j]), `token ${t} rank ${j}`).toBeLessThan(1e-4);
      });
    });
  });

  it('lens --json: the final row is the greedy prediction and resid_pre 1 matches the reference lens', async () => {
    const r = await spawnCli(['lens', '--model', FIXTURE, ...WASM, '--text', fox.text, '--top', '10', '--json']);
    const out = parseJSON<{ ids: number[]; layers: { hook: string; label: string; top: { id: number; prob: number }[][] }[] }>(r);
    expect(out.ids).toEqual(fox.ids);
    expect(out.layers.map((l) => l.hook)).toEqual(['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_post']);
    const final = out.layers.at(-1)!;
    expect(final.top.map((pos) => pos[0].id)).toEqual(expected.greedy_next_ids_fox);
    const { position, top10_ids } = expected.logit_lens;
    expect(out.layers[1].top[position].map((t) => t.id)).toEqual(top10_ids);
    for (const l of out.layers) for (const pos of l.top) expect(pos[0].prob).toBeGreaterThanOrEqual(pos[9].prob);
  });
});

describe('textdream CLI with a hub id', () => {
  const ID = 'acme/tiny-gpt2';
  let server: HubServer;
  let hfHome: string;
  beforeAll(async () => {
    server = await startHubServer({ repos: { [ID]: FIXTURE } });
    hfHome = await mkdtemp(join(tmpdir(), 'textdream-cli-hf-'));
  });
  afterAll(async () => {
    await server?.stop();
    if (hfHome) await rm(hfHome, { recursive: true, force: true });
  });

  it('downloads through HF_ENDPOINT into HF_HOME with a progress line per file', async () => {
    const env = { HF_ENDPOINT: server.url, HF_HOME: hfHome };
    const r = await spawnCli(['info', '--model', ID, ...WASM, '--json'], env);
    const info = parseJSON<{ source: { kind: string; dir: string; id: string }; parameters: number }>(r);
    expect(info.source.kind).toBe('download');
    expect(info.source.id).toBe(ID);
    expect(info.source.dir.startsWith(join(hfHome, 'hub', 'models--acme--tiny-gpt2', 'snapshots'))).toBe(true);
    expect(info.parameters).toBe(gpt2Parameters(config));
    const size = (await stat(join(FIXTURE, 'model.safetensors'))).size;
    expect(r.stderr).toContain(`downloading ${ID}\n`);
    expect(r.stderr).toContain(`download: model.safetensors ${size}/${size} bytes\n`);
    for (const f of ['config.json', 'tokenizer.json']) expect(r.stderr).toMatch(new RegExp(`^download: ${f} (\\d+)/\\1 bytes$`, 'm'));
    expect(server.requests.some((q) => q.file === 'model.safetensors')).toBe(true);
  });
});

describe('textdream CLI in process', () => {
  it('prints help for a command and for `help <command>`', async () => {
    const a = await runCli(['forward', '--help']);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^Usage: textdream forward --text <text> --layer <L>/);
    expect(a.stdout).toContain('--backend <auto|tensorflow|webgpu|wasm|cpu>');
    const b = await runCli(['help', 'forward']);
    expect(b).toEqual(a);
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: textdream <command>');
  });

  it('prints readable text tables', async () => {
    const f = await runCli(['forward', '--model', FIXTURE, ...WASM, '--text', fox.text, '--layer', '0', '--top', '2']);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout.split('\n')[0]).toBe(`10 tokens · next-token loss ${expected.loss_fox.toFixed(4)} nats · top 2 neurons of blocks.0.mlp.hook_post`);
    expect(f.stdout).toMatch(/^ {3}3 {3}21831 {2}" fox" +N\d+ -?\d+\.\d{3} {2}N\d+ /m);
    const l = await runCli(['lens', '--model', FIXTURE, ...WASM, '--text', 'Hello world', '--top', '1']);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toMatch(/^0 "Hello" → next:\n {2}resid_pre 0 {2}".*" \d+\.\d%\n {2}resid_pre 1 {2}.*\n {2}final {7}/);
    const i = await runCli(['info', '--model', FIXTURE, ...WASM]);
    expect(i.stdout).toMatch(/^parameters +1,635,744 \(1\.64 M\)$/m);
    expect(i.stdout).toMatch(/^backend +wasm/m);
  });

  it('an unexpected error (a bug, not a user mistake) prints its stack and exits 1', async () => {
    let stderr = '';
    const boom = () => {
      throw new Error('boom');
    };
    const code = await main(['info', '--model', FIXTURE, ...WASM, '--json'], { stdout: boom, stderr: (s) => void (stderr += s), env: cleanEnv() });
    expect(code).toBe(1);
    expect(stderr).toMatch(/textdream info: unexpected error \(a bug; please report it\)\nError: boom\n\s+at /);
  });
});
