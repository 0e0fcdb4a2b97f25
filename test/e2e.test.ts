// End to end in headless Chromium (Debian's, driven by playwright-core) against `textdream serve` as a child
// process on a free port, the tiny fixture model and a temporary SQLite store: pick a neuron, dream it live,
// reload the page mid-run (the run goes on and the page re-attaches), stop it, compare and export runs, and
// find the run again after the server restarts on the same --db. Every view is screenshotted into
// docs/screenshots/ on the way.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { InlineConfig } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from './helpers/cli.js';
import { startServe, type ServeProcess } from './helpers/serve.js';
import { FIXTURE } from './helpers/shared.js';
import { writeJumpReluSae } from './helpers/sae.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHOTS = join(ROOT, 'docs', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const MNIST_NETS = ['classifier', 'judge', 'autoencoder'];
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const tmp = mkdtempSync(join(tmpdir(), 'textdream-e2e-'));
const staticDir = join(tmp, 'renderer');
const db = join(tmp, 'history.db');
// The fixture model with an SAE beside it (saes/blocks.1.hook_resid_pre), so the dream panel can pick its latents.
const model = join(tmp, 'tiny-gpt2');
// A small corpus for a quick scan of layer 1 (documents separated by two blank lines), so the neuron page has
// statistics, a histogram and top examples from the same store the server uses.
const CORPUS = [
  'The quick brown fox jumps over the lazy dog. A small boat drifted across the lake while the children watched from the shore.',
  'The committee met on Tuesday to discuss the budget for the coming year. Several members argued that the library needed new books.',
  'Rain fell all night on the old town, and by morning the river had risen above the bridge. Farmers moved their cattle to higher ground.',
  'In the laboratory, the students measured the temperature of the solution every five minutes and wrote the numbers in their notebooks.',
  'She opened the letter slowly, read it twice, and then laughed out loud. Nobody in the house could guess what had made her so happy.',
].join('\n\n\n');
const serveArgs = ['--port', '0', '--model', model, '--db', db, '--static', staticDir, '--backend', 'wasm'];
let server: ServeProcess;
let browser: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
let stoppedRun = '';
let completedRun = '';

/** The renderer as `npm run build` makes it (same config), into a folder of this test's own. */
async function buildRenderer(): Promise<void> {
  const { build } = await import('vite');
  const config = (await import('../electron.vite.config.js')).default as unknown as { renderer: InlineConfig };
  const r = config.renderer;
  await build({ ...r, configFile: false, base: './', logLevel: 'warn', build: { ...r.build, outDir: staticDir, emptyOutDir: true } });
}

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const liveUpdates = async () => Number((await page.getByTestId('live-updates').textContent()) ?? 0);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await buildRenderer();
  writeFileSync(join(tmp, 'corpus.txt'), CORPUS);
  cpSync(FIXTURE, model, { recursive: true });
  const dIn = (JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { n_embd: number }).n_embd;
  await writeJumpReluSae(join(model, 'saes', 'blocks.1.hook_resid_pre'), { dIn, dSae: 16, hook: 'blocks.1.hook_resid_pre', seed: 5 });
  const scan = await spawnCli(['scan', '--model', model, '--db', db, '--corpus', join(tmp, 'corpus.txt'), '--layers', '1', '--window', '16', '--top', '5', '--random', '4', '--sample', '1', '--backend', 'wasm']);
  expect(scan.code, scan.stderr).toBe(0);
  server = await startServe(serveArgs);
  browser = await chromium.launchPersistentContext(join(tmp, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(30_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the workbench in Chromium against textdream serve', () => {
  it('shows the model the server loaded', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('current-model').textContent(), { timeout: 60_000 }).toContain('tiny-gpt2');
    expect(await page.getByTestId('model-badge').textContent()).toContain('2×128');
    await shot('models');
  });

  it('picks a layer and a neuron, and finds neurons by text', async () => {
    await page.getByTestId('nav-neurons').click();
    await page.getByTestId('layer-select').selectOption('1');
    await page.getByTestId('neuron-input').fill('7');
    await page.getByTestId('open-neuron').click();
    const neuronPage = page.locator('[data-testid=neuron-page][data-layer="1"][data-neuron="7"]');
    await neuronPage.waitFor();
    expect(await page.getByTestId('neuron-lens').locator('.chip').count()).toBe(24);
    // From the scan in the same store: statistics, quantiles, histogram, top examples coloured per token.
    expect(await page.getByTestId('neuron-stats').textContent()).toContain('tokens');
    await page.getByTestId('histogram').waitFor();
    expect(await page.getByTestId('top-examples').locator('li').count()).toBe(5);
    expect(await page.getByTestId('top-examples').locator('.tok').count()).toBeGreaterThan(5 * 10);
    await page.getByTestId('search-text').fill('The quick brown fox jumps over the lazy dog');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByTestId('search-hits').waitFor();
    expect(await page.getByTestId('search-hits').locator('button').count()).toBe(15);
    await page.getByPlaceholder('a text to read this neuron on').fill('The quick brown fox');
    await page.getByRole('button', { name: 'Measure' }).click();
    await page.getByTestId('probe-result').waitFor();
    await shot('neurons');
  });

  it('dreams the neuron live, survives a page reload mid-run, and stops', async () => {
    await page.getByTestId('dream-this').click();
    expect(await page.getByTestId('dream-layer').inputValue()).toBe('1');
    expect(await page.getByTestId('dream-neuron').inputValue()).toBe('7');
    await page.getByTestId('method-select').selectOption('fluent');
    await page.getByTestId('lambdas-input').fill('0, 0.5, 1');
    await page.getByTestId('candidates-input').fill('4');
    await page.getByTestId('top-k-input').fill('4');
    await page.getByTestId('steps-input').fill('2000');
    await page.getByTestId('seq-len-input').fill('6');
    await page.getByTestId('dream-start').click();
    await expect.poll(liveUpdates, { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
    stoppedRun = (await page.getByTestId('run-id').textContent())!;
    const stepsBefore = Number(await page.getByTestId('run-view').getAttribute('data-steps'));
    expect(stepsBefore).toBeGreaterThanOrEqual(3);
    await page.getByTestId('pareto').waitFor();
    // Every dream shows its readability (the judge's percentile, a number), and the activation–readability chart.
    await page.getByTestId('pareto-readability').waitFor();
    expect(await page.getByTestId('readability').first().textContent()).toMatch(/^\s*\d+( ✓)?\s*$/);
    await shot('dream-live');

    // The page goes away and comes back: the run went on in the engine; the panel re-attaches to it.
    await page.reload();
    await page.getByTestId('nav-dream').click();
    await expect.poll(() => page.getByTestId('run-id').textContent(), { timeout: 30_000 }).toBe(stoppedRun);
    await expect.poll(liveUpdates, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    // The form shows the run it re-attached to.
    await expect.poll(() => page.getByTestId('dream-neuron').inputValue()).toBe('7');
    expect(await page.getByTestId('method-select').inputValue()).toBe('fluent');
    expect(Number(await page.getByTestId('run-view').getAttribute('data-steps'))).toBeGreaterThan(stepsBefore);

    await page.getByTestId('dream-stop').click();
    await page.locator('[data-testid=run-view][data-status=aborted]').waitFor({ timeout: 60_000 });
    await page.getByTestId('run-best').waitFor();
    await shot('dream-stopped');

    // A second, short run to compare with (embed, completes by itself).
    await page.getByTestId('method-select').selectOption('embed');
    await page.getByTestId('steps-input').fill('6');
    await page.getByTestId('seed-input').fill('3');
    await page.getByTestId('dream-start').click();
    await page.locator('[data-testid=run-view][data-status=completed]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('run-best-readable').textContent()).toMatch(/most activating readable dream|no dream of this run is readable/);
    completedRun = (await page.getByTestId('run-id').textContent())!;
    expect(completedRun).not.toBe(stoppedRun);
  });

  it('lists both runs in the history, compares them and exports them', async () => {
    await page.getByTestId('nav-history').click();
    await page.locator(`tr[data-run-id="${stoppedRun}"]`).waitFor();
    await page.locator(`tr[data-run-id="${completedRun}"]`).waitFor();
    expect(await page.locator(`tr[data-run-id="${stoppedRun}"] .badge`).textContent()).toBe('aborted');
    await shot('history');

    await page.getByTestId('history-search').fill('embed');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('tr[data-run-id]').count()).toBe(1);
    await page.getByTestId('history-search').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('tr[data-run-id]').count()).toBe(2);

    for (const id of [stoppedRun, completedRun]) await page.locator(`tr[data-run-id="${id}"] input[type=checkbox]`).check();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^textdream-runs-.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toBe('run_id,model,target,method,status,step,soft,label,value,max,ce,text');
    expect(csv).toContain(stoppedRun);
    expect(csv).toContain(completedRun);

    await page.getByTestId('compare').click();
    await page.getByTestId('comparison').waitFor();
    expect(await page.getByTestId('comparison').textContent()).toContain('method');
    await page.getByTestId('comparison').scrollIntoViewIfNeeded();
    await shot('compare');
  });

  it('dreams an MNIST digit raw and latent side by side (when the networks are trained), and explains the neuron without and with dreams', async () => {
    await page.getByTestId('nav-mnist').click();
    const mnistReady = MNIST_NETS.every((n) => existsSync(join(ROOT, 'resources', 'mnist', `${n}.safetensors`)));
    if (mnistReady) {
      // Raw and latent dreams of the class "3", side by side and live.
      await page.getByTestId('mnist-class').fill('3');
      await page.getByTestId('mnist-steps').fill('40');
      await page.getByTestId('mnist-start').click();
      for (const side of ['raw', 'latent']) {
        await expect.poll(async () => Number(await page.getByTestId(`mnist-${side}`).getAttribute('data-steps')), { timeout: 90_000 }).toBeGreaterThanOrEqual(3);
      }
      await page.locator('[data-testid=mnist-latent][data-status=completed]').waitFor({ timeout: 90_000 });
      await page.locator('[data-testid=mnist-raw][data-status=completed]').waitFor({ timeout: 90_000 });
      expect(await page.getByTestId('mnist-run').getByTestId('digit').count()).toBe(2);
    } else {
      await page.getByTestId('not-available').waitFor();
    }
    await shot('mnist');

    await page.getByTestId('nav-explain').click();
    expect(await page.getByTestId('explain-neuron').inputValue()).toBe('7');
    await page.getByTestId('explain-dream-steps').fill('2');
    await page.getByTestId('explain-run').click();
    await page.getByTestId('explain-result').waitFor({ timeout: 170_000 });
    expect(await page.getByTestId('explain-result').locator('.explanation').count()).toBe(2);
    await page.getByTestId('explain-uplift').waitFor();
    await shot('explain');
  }, 300_000);

  it('finds the runs in the history after the server restarts on the same --db', async () => {
    expect(await server.stop()).toBe(0);
    server = await startServe(serveArgs);
    await page.goto(server.url);
    // The restarted server loads the model again before a run can be reopened (slow when the machine is busy).
    await expect.poll(() => page.getByTestId('current-model').textContent(), { timeout: 120_000 }).toContain('tiny-gpt2');
    await page.getByTestId('nav-history').click();
    const row = page.locator(`tr[data-run-id="${stoppedRun}"]`);
    await row.waitFor();
    expect(await row.locator('.badge').textContent()).toBe('aborted');
    expect(await page.locator(`tr[data-run-id="${completedRun}"] .badge`).textContent()).toBe('completed');
    await shot('history-after-restart');

    await row.getByTestId('reopen').click();
    await expect.poll(() => page.getByTestId('run-id').textContent()).toBe(stoppedRun);
    await page.locator('[data-testid=run-view][data-status=aborted]').waitFor();
    expect(Number(await page.getByTestId('run-view').getAttribute('data-steps'))).toBeGreaterThanOrEqual(4);
    expect(await page.getByTestId('method-select').inputValue()).toBe('fluent');
    await shot('dream-reopened');
  }, 240_000);

  it('dreams an SAE latent picked from the model folder, then a latent composed with a neuron', async () => {
    await page.getByTestId('target-kind').selectOption('sae');
    expect(await page.getByTestId('sae-select').inputValue()).toBe('L1.resid_pre');
    await page.getByTestId('sae-latent').fill('3');
    await page.getByTestId('method-select').selectOption('embed');
    await page.getByTestId('steps-input').fill('4');
    await page.getByTestId('dream-start').click();
    await page.locator('[data-testid=run-view][data-status=completed]').waitFor({ timeout: 60_000 });
    const latentRun = (await page.getByTestId('run-id').textContent())!;
    await shot('dream-sae-latent');

    await page.getByTestId('target-kind').selectOption('expression');
    await page.getByTestId('objective-input').fill('sae:L1.resid_pre:3 - 0.5*');
    await page.getByTestId('target-error').waitFor();
    expect(await page.getByTestId('dream-start').isDisabled()).toBe(true);
    await page.getByTestId('objective-input').fill('sae:L1.resid_pre:3 - 0.5*L1N7');
    expect(await page.getByTestId('target-error').count()).toBe(0);
    await page.getByTestId('dream-start').click();
    await expect.poll(() => page.getByTestId('run-id').textContent()).not.toBe(latentRun);
    await page.locator('[data-testid=run-view][data-status=completed]').waitFor({ timeout: 60_000 });
    const composedRun = (await page.getByTestId('run-id').textContent())!;

    await page.getByTestId('nav-history').click();
    await expect.poll(() => page.locator(`tr[data-run-id="${latentRun}"] td:nth-child(3)`).textContent()).toBe('sae:L1.resid_pre:3');
    expect(await page.locator(`tr[data-run-id="${composedRun}"] td:nth-child(3)`).textContent()).toBe('−0.5·L1N7 + 1·sae:L1.resid_pre:3');
    expect(pageErrors).toEqual([]);
  });
  it('browses a layer while a sweep fills it in: rows without a reload, sorting, full-text search, a click to the page', async () => {
    await page.getByTestId('nav-neurons').click();
    await page.getByTestId('layer-select').selectOption('1');
    await page.locator('[data-testid=swept-layer][data-layer="1"]').waitFor();
    await page.getByTestId('swept-note').waitFor();
    expect(await page.getByTestId('swept-row').count()).toBe(0);
    // A sweep in another process, into the store the server has open.
    const sweep = spawnCli(
      ['sweep', '--model', model, '--db', db, '--backend', 'wasm', '--corpus', join(tmp, 'corpus.txt'), '--window', '16', '--methods', 'embed', '--steps', '3', '--seq-len', '4', '--seed', '2', '--layers', '1', '--neurons', '0-7'],
      {},
      180_000,
    );
    await expect.poll(() => page.locator('[data-testid=swept-row][data-status=done]').count(), { timeout: 120_000 }).toBeGreaterThan(0);
    const r = await sweep;
    expect(r.code, r.stderr).toBe(0);
    await expect.poll(() => page.locator('[data-testid=swept-row][data-status=done]').count(), { timeout: 15_000 }).toBe(8);
    expect(await page.getByTestId('swept-counts').textContent()).toContain('8 done · 0 running · 0 failed');

    // Sorted by score, highest first (empty scores last).
    await page.getByTestId('swept-sort-score').click();
    const scores = (await page.locator('[data-testid=swept-row] td:nth-child(6)').allTextContents()).filter((t) => t !== '').map(Number);
    expect(scores.length).toBeGreaterThan(1);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    await shot('neuron-browser-sweep');

    // Full-text search over explanations and dreams: every row left holds the word.
    const explanation = (await page.locator('[data-testid=swept-row] td:nth-child(5)').first().textContent())!;
    const word = explanation.match(/[A-Za-z]{4,}/)![0].toLowerCase();
    await page.getByTestId('swept-search').fill(word);
    await expect.poll(async () => Number(await page.getByTestId('swept-layer').getAttribute('data-rows')), { timeout: 10_000 }).toBeLessThanOrEqual(8);
    const rows = page.locator('[data-testid=swept-row]');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    for (const text of await rows.allTextContents()) expect(text.toLowerCase()).toContain(word);
    await page.getByTestId('swept-search').fill('zzzqqq');
    await expect.poll(() => rows.count()).toBe(0);
    await page.getByTestId('swept-search').fill('');
    await expect.poll(() => rows.count()).toBe(8);

    // A click opens the neuron's page.
    const n = await rows.nth(2).getAttribute('data-neuron');
    await rows.nth(2).click();
    await page.locator(`[data-testid=neuron-page][data-layer="1"][data-neuron="${n}"]`).waitFor();
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it("opens an SAE latent's page from textdream scan --sae: statistics, histogram, top windows, the decoder's lens; then dreams it", async () => {
    const scan = await spawnCli(['scan', '--model', model, '--db', db, '--corpus', join(tmp, 'corpus.txt'), '--sae', 'L1.resid_pre', '--window', '16', '--top', '5', '--random', '4', '--sample', '1', '--backend', 'wasm']);
    expect(scan.code, scan.stderr).toBe(0);
    await page.getByTestId('nav-neurons').click();
    await page.getByTestId('unit-select').selectOption('L1.resid_pre');
    // A sweep of two latents, into the server's store: the table lists them as latents of the SAE.
    const sweep = await spawnCli(['sweep', '--model', model, '--db', db, '--backend', 'wasm', '--corpus', join(tmp, 'corpus.txt'), '--window', '16', '--sae', 'L1.resid_pre', '--neurons', '2-3', '--methods', 'embed', '--steps', '2', '--seq-len', '4']);
    expect(sweep.code, sweep.stderr).toBe(0);
    await page.locator('[data-testid=swept-layer][data-sae="L1.resid_pre"]').waitFor();
    await expect.poll(() => page.locator('[data-testid=swept-row][data-status=done]').count(), { timeout: 15_000 }).toBe(2);
    expect(await page.locator('[data-testid=swept-row] td:first-child').allTextContents()).toEqual(['latent 2', 'latent 3']);
    await page.getByTestId('latent-input').fill('3');
    await page.getByTestId('open-neuron').click();
    const latentPage = page.locator('[data-testid=neuron-page][data-sae="L1.resid_pre"][data-neuron="3"]');
    await latentPage.waitFor();
    expect(await latentPage.locator('h3').textContent()).toContain('SAE L1.resid_pre · latent 3');
    expect(await latentPage.getByTestId('neuron-stats').textContent()).toContain('tokens');
    // The newest finished scan of the SAE (the sweep's, 20 windows kept) shows its top windows (the page shows up to 12).
    expect(await latentPage.getByTestId('top-examples').locator('li').count()).toBeGreaterThanOrEqual(5);
    expect(await latentPage.getByTestId('neuron-lens').locator('.chip').count()).toBeGreaterThan(0);
    await shot('neuron-sae-latent');
    // The probe reads the latent (the top window's text gives its top value at its strongest token).
    const top = (await latentPage.getByTestId('top-examples').locator('li').first().locator('.max').textContent())!;
    await latentPage.getByLabel('probe text').fill(CORPUS.split('\n\n\n')[0]);
    await latentPage.getByRole('button', { name: 'Measure' }).click();
    await latentPage.getByTestId('probe-result').waitFor();
    expect(Number(top)).toBeGreaterThan(0);
    await latentPage.getByTestId('dream-this').click();
    expect(await page.getByTestId('target-kind').inputValue()).toBe('sae');
    expect(await page.getByTestId('sae-latent').inputValue()).toBe('3');
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
