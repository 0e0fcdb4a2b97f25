// `textdream mnist` and `textdream train-mnist` through the CLI entry (in-process, output captured).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'textdream-mnist-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('textdream mnist', () => {
  it('dreams a class from the latent, writes the PNG and prints both classifiers as JSON', async () => {
    const png = join(dir, 'three.png');
    const r = await runCli(['mnist', '--class', '3', '--space', 'latent', '--steps', '20', '--seed', '4', '--png', png, '--json', '--backend', 'wasm']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.config).toMatchObject({ space: 'latent', steps: 20, seed: 4, target: { kind: 'class', class: 3 } });
    expect(out.target).toBe('logit of class 3');
    expect(out.final.probs).toHaveLength(10);
    expect(out.final.judgeProbs).toHaveLength(10);
    expect(out.final.image).toHaveLength(784);
    expect(out.png).toBe(png);
    const bytes = readFileSync(png);
    expect([...bytes.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(bytes.readUInt32BE(16)).toBe(224); // width: 28 × 8
  });

  it('prints a readable summary for a hidden unit from raw pixels', async () => {
    const r = await runCli(['mnist', '--unit', 'fc1:5', '--space', 'raw', '--steps', '10', '--l2', '0.5', '--tv', '0.2', '--jitter', '1', '--backend', 'wasm']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fc1 unit 5 \(pre-ReLU\) · space raw · 10 steps/);
    expect(r.stdout).toMatch(/regularisers l2 0\.5, tv 0\.2, jitter 1/);
    expect(r.stdout).toMatch(/classifier .*%/);
    expect(r.stdout).toMatch(/judge .*%/);
    expect(r.stderr).toMatch(/step 10\/10/);
  });

  it.each([
    [['--steps', '5'], /exactly one of --class/],
    [['--class', '3', '--unit', 'fc1:1'], /exactly one of --class/],
    [['--class', '12'], /--class 12 is out of range/],
    [['--unit', 'fc9:1'], /--unit must be <layer>:<index>/],
    [['--unit', 'fc1:64'], /fc1 has units 0-63/],
    [['--class', '1', '--space', 'pixels'], /--space must be one of raw, latent/],
    [['--class', '1', '--jitter', '20'], /--jitter 20 is out of range/],
    [['--class', '1', '--weights', dir], /weights are missing.*train-mnist/],
  ])('%j is a usage error that says what to do', async (args, message) => {
    const r = await runCli(['mnist', ...args, '--backend', 'wasm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('textdream train-mnist', () => {
  it('trains one network for one epoch into another folder (no card for a partial run)', async () => {
    const out = join(dir, 'weights');
    const r = await runCli(['train-mnist', '--only', 'judge', '--epochs', '1', '--out', out, '--json', '--backend', 'wasm']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.nets).toHaveLength(1);
    expect(res.nets[0]).toMatchObject({ net: 'judge', recipe: { epochs: 1 } });
    expect(res.nets[0].heldOut).toBeGreaterThan(0.9);
    expect(existsSync(join(out, 'judge.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'MODEL_CARD.md'))).toBe(false);
    expect(r.stderr).toMatch(/judge epoch 1\/1/);
  }, 300_000);

  it('rejects an unknown network name', async () => {
    const r = await runCli(['train-mnist', '--only', 'judge,critic']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--only takes a comma list of classifier, judge, autoencoder/);
  });
});
