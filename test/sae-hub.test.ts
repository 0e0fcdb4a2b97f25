// SAEs from the Hugging Face hub (sae/locate.ts over model/hub.ts), against a loopback stand-in for the hub that
// serves a repo with one SAE per hook folder, as SAELens releases are laid out: the SAE's files land in the
// standard cache under their subfolder, a second request is served from the cache without the network, offline
// and unknown SAEs fail naming the fix, and a dream aims at a hub latent through the CLI.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { loadSae } from '../src-main/sae/load.js';
import { locateSae } from '../src-main/sae/locate.js';
import { runCli } from './helpers/cli.js';
import { DEFAULT_COMMIT, startHubServer, type HubServer } from './helpers/hubServer.js';
import { writeJumpReluSae } from './helpers/sae.js';
import { FIXTURE } from './helpers/shared.js';

const REPO = 'someone/tiny-gpt2-saes';
const SUB = 'blocks.1.hook_resid_pre';
let tmp: string;
let release: string;
let server: HubServer;

beforeAll(async () => {
  await initBackend('wasm');
  tmp = await mkdtemp(join(tmpdir(), 'textdream-sae-hub-'));
  release = join(tmp, 'release');
  const dIn = (JSON.parse(await readFile(join(FIXTURE, 'config.json'), 'utf8')) as { n_embd: number }).n_embd;
  await writeJumpReluSae(join(release, SUB), { dIn, dSae: 16, hook: SUB, seed: 21 });
  await writeJumpReluSae(join(release, 'blocks.0.hook_resid_pre'), { dIn, dSae: 8, hook: 'blocks.0.hook_resid_pre', seed: 22 });
  server = await startHubServer({ repos: { [REPO]: release }, lfsRedirect: true });
});
afterAll(async () => {
  await server?.stop();
  await rm(tmp, { recursive: true, force: true });
});

const envFor = async () => ({ HF_HOME: await mkdtemp(join(tmp, 'hf-')), HF_ENDPOINT: server.url });

it('downloads one hook folder of a release into the hub cache, then reuses it without a request', async () => {
  const env = await envFor();
  const got = await locateSae(`${REPO}/${SUB}`, { env });
  const snapshot = join(env.HF_HOME, 'hub', 'models--someone--tiny-gpt2-saes', 'snapshots', DEFAULT_COMMIT);
  expect(got).toEqual({ dir: join(snapshot, SUB), source: 'download', repo: REPO, subfolder: SUB, revision: DEFAULT_COMMIT });
  for (const f of ['cfg.json', 'sae_weights.safetensors']) {
    expect((await readFile(join(got.dir, f))).equals(await readFile(join(release, SUB, f))), f).toBe(true);
  }
  // Only that folder's files were asked for (the other hook's SAE stays on the hub).
  const asked = server.requests.filter((r) => r.file).map((r) => r.file);
  expect(asked.every((f) => f!.startsWith(`${SUB}/`))).toBe(true);
  const sae = await loadSae(got.dir);
  expect(sae.config.hook.name).toBe(SUB);
  expect(sae.config.dSae).toBe(16);
  sae.dispose();

  const before = server.requests.length;
  expect(await locateSae(`${REPO}/${SUB}`, { env: { ...env, HF_HUB_OFFLINE: '1' } })).toMatchObject({ dir: got.dir, source: 'cache' });
  expect(server.requests.length).toBe(before);
});

it('offline with an empty cache, an unknown folder, and a malformed name each fail naming the fix', async () => {
  const env = await envFor();
  await expect(locateSae(`${REPO}/${SUB}`, { env: { ...env, HF_HUB_OFFLINE: '1' } })).rejects.toThrow(/SAE "someone\/tiny-gpt2-saes" \(revision main\) is not in the local cache .* offline mode is on/);
  await expect(locateSae(`${REPO}/blocks.3.hook_mlp_out`, { env })).rejects.toThrow(/HTTP 404.*the SAE id "someone\/tiny-gpt2-saes" or revision "main" is wrong .*or pass a local folder holding cfg\.json/s);
  await expect(locateSae('./no/such/sae', { env })).rejects.toThrow(/SAE folder does not exist/);
  await expect(locateSae('justaname', { env })).rejects.toThrow(/neither an existing folder nor a Hugging Face SAE/);
});

it('dreams for a latent of a hub SAE through the CLI, composed with a neuron', async () => {
  const env = await envFor();
  const r = await runCli(['dream', '--model', FIXTURE, '--backend', 'wasm', '--objective', `sae:${REPO}/${SUB}:3 - 0.5*L1N7`, '--method', 'embed', '--steps', '3', '--seq-len', '4', '--json', '--db', ':memory:'], env);
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!);
  expect(summary.config.target).toEqual({ kind: 'sum', terms: [{ layer: 1, neuron: 7, weight: -0.5 }], latents: [{ sae: `${REPO}/${SUB}`, latent: 3, weight: 1 }] });
  expect(server.requests.some((q) => q.file === `${SUB}/sae_weights.safetensors`)).toBe(true);
});
