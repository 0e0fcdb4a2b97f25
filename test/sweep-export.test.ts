// `textdream sweep --export` and `--report`: the pages of a finished fixture sweep as JSON lines equal to the
// stored pages, and the HTML report opened in real headless Chromium (file://, no server): one row per page,
// sorting by a numeric column, filtering by a word, and text from the pages escaped, never interpreted.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src-main/store/sqlite.js';
import { escapeHTML, layerReportHTML } from '../src-main/sweep/export.js';
import type { SweepPageRow } from '../src-main/sweep/types.js';
import { runCli } from './helpers/cli.js';
import { FIXTURE } from './helpers/shared.js';
import { withStoreFile } from './helpers/storeFile.js';
import { SWEEP_TEXTS, writeSweepCorpus } from './helpers/sweepCorpus.js';

const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'textdream-export-'));
const CORPUS = join(dir, 'corpus.jsonl');
const DB = join(dir, 'sweep.db');
const FLAGS = ['--model', FIXTURE, '--backend', 'wasm', '--db', DB, '--corpus', CORPUS, '--window', '16', '--methods', 'embed', '--steps', '2', '--seq-len', '4', '--seed', '3', '--layers', '0', '--neurons', '0-5'];

let browser: Browser | undefined;
beforeAll(async () => {
  writeSweepCorpus(CORPUS, [SWEEP_TEXTS[0], SWEEP_TEXTS[1], SWEEP_TEXTS[4]], 2);
  const r = await runCli(['sweep', ...FLAGS]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

const storedPages = (): SweepPageRow[] =>
  withStoreFile(DB, (s) => {
    const row = s.db.prepare('SELECT DISTINCT model, settings_hash FROM sweep_pages').get() as { model: string; settings_hash: string };
    return s.sweepPages(row.model, row.settings_hash);
  });

describe('sweep --export and --report', () => {
  it('--export writes a header and one line per page, equal to the stored pages, in neuron order', async () => {
    const file = join(dir, 'pages.jsonl');
    const r = await runCli(['sweep', ...FLAGS, '--export', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote 6 of 6 neuron page\(s\) to .*pages\.jsonl/);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ format: 'textdream-neuron-pages', version: 1, pages: 6 });
    expect(lines[0].settings.dreams[0].method).toBe('embed');
    const stored = storedPages();
    expect(lines.slice(1).map((l) => [l.format, l.layer, l.neuron])).toEqual(stored.map((p) => ['textdream-neuron-page', 0, p.neuron]));
    expect(lines.slice(1).map((l) => l.page)).toEqual(stored.map((p) => p.page));
    expect(lines.slice(1).map((l) => l.model.fingerprint)).toEqual(stored.map((p) => p.model));
    // A selection exports only its pages; a sweep never run has none, and says so.
    const two = await runCli(['sweep', ...FLAGS.slice(0, -1), '1,4', '--export', file]);
    expect(two.stdout).toMatch(/wrote 2 of 2/);
    expect(readFileSync(file, 'utf8').trimEnd().split('\n').slice(1).map((l) => JSON.parse(l).neuron)).toEqual([1, 4]);
    const none = await runCli(['sweep', ...FLAGS.map((f) => (f === '3' ? '4' : f)), '--export', join(dir, 'none.jsonl')]);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/no finished pages for these settings/);
  });

  it('refuses --export without a file and with --redis', async () => {
    expect((await runCli(['sweep', ...FLAGS, '--export', ''])).stderr).toMatch(/--export needs a file name/);
    expect((await runCli(['sweep', ...FLAGS, '--report', 'x.html', '--redis', 'auto'])).stderr).toMatch(/read the store only: drop --redis/);
  });

  it('the report in Chromium: a row per page, numeric sorting, filtering, and page text escaped', async () => {
    const file = join(dir, 'layer0.html');
    const r = await runCli(['sweep', ...FLAGS, '--report', file]);
    expect(r.code, r.stderr).toBe(0);
    const stored = storedPages();
    expect(existsSync(CHROMIUM), 'Debian chromium (apt-get install chromium)').toBe(true);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage();
    await page.goto(pathToFileURL(file).href);
    const neurons = () => page.$$eval('#pages tbody tr:not([hidden]) td:first-child', (tds) => tds.map((td) => td.textContent));
    expect(await neurons()).toEqual(stored.map((p) => `L0N${p.neuron}`));

    // Sort by score, descending then ascending: the order of the stored scores.
    const byScore = [...stored].sort((a, b) => (b.page.explanation.score ?? -Infinity) - (a.page.explanation.score ?? -Infinity)).map((p) => `L0N${p.neuron}`);
    await page.click('th:has-text("score")');
    expect(await neurons()).toEqual(byScore);
    await page.click('th:has-text("score")');
    expect(await neurons()).toEqual([...byScore].reverse());

    // Filter by a word of one page's explanation: only the pages whose row holds it stay.
    const word = stored[2].page.explanation.text.match(/[A-Za-z]{4,}/)![0].toLowerCase();
    const holding = stored.filter((p) => JSON.stringify([p.page.explanation.text, p.page.dreams.map((d) => d.best?.text)]).toLowerCase().includes(word) || `l0n${p.neuron}`.includes(word)).map((p) => `L0N${p.neuron}`);
    await page.fill('#filter', word);
    expect((await neurons()).sort()).toEqual(holding.sort());
    expect(holding.length).toBeGreaterThan(0);

    // Markup in a page's text is shown as text.
    const rows = stored.map((p, i) => (i === 0 ? { ...p, page: { ...p.page, explanation: { ...p.page.explanation, text: '<img src=x onerror="window.hacked=1">"quoted" & more' } } } : p));
    const hostile = join(dir, 'hostile.html');
    writeFileSync(hostile, layerReportHTML(rows, { modelSpec: 'm', modelFingerprint: stored[0].model, settingsHash: stored[0].settingsHash, settings: JSON.parse(readFileSync(join(dir, 'pages.jsonl'), 'utf8').split('\n')[0]).settings }, 't'));
    await page.goto(pathToFileURL(hostile).href);
    expect(await page.evaluate(() => (window as unknown as { hacked?: number }).hacked)).toBeUndefined();
    expect(await page.$$eval('#pages tbody tr:first-child td', (tds) => tds[4].textContent)).toBe('<img src=x onerror="window.hacked=1">"quoted" & more');
    expect(escapeHTML(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  }, 60_000);
  it('the neuron browser\'s rows: one per swept neuron with its page\'s figures, narrowed by words of explanations and dreams', () => {
    const stored = storedPages();
    const s = new SqliteStore(DB);
    try {
      const rows = s.sweptLayer(stored[0].model, 0);
      expect(rows.map((r) => [r.neuron, r.status])).toEqual(stored.map((p) => [p.neuron, 'done']));
      rows.forEach((r, i) => {
        const p = stored[i].page;
        // One dream method here: its most activating readable dream, else its most activating one.
        const shown = p.dreams[0].bestReadable ?? p.dreams[0].best!;
        expect([r.max, r.mean, r.density, r.explanation, r.score, r.dream, r.dreamValue, r.dreamReadable]).toEqual([p.stats!.max, p.stats!.mean, p.stats!.positive, p.explanation.text, p.explanation.score, shown.text, shown.value, shown.readable]);
      });
      // Another layer, another model: nothing.
      expect(s.sweptLayer(stored[0].model, 1)).toEqual([]);
      expect(s.sweptLayer('not-a-model', 0)).toEqual([]);
      // The word of one explanation that the fewest others use: found are exactly the pages whose explanation, or
      // a dream text of one of whose runs, holds it as a word.
      const holds = (word: string, t: string) => new RegExp(`(^|[^\\p{L}\\p{N}_])${word}($|[^\\p{L}\\p{N}_])`, 'iu').test(t);
      const words = [...new Set(stored[3].page.explanation.text.match(/\p{L}{3,}/gu)!)];
      const word = words.sort((a, b) => stored.filter((p) => holds(a, p.page.explanation.text)).length - stored.filter((p) => holds(b, p.page.explanation.text)).length)[0];
      const dreamTexts = (runIds: string[]) =>
        runIds.flatMap((id) => (s.db.prepare('SELECT record FROM dream_steps WHERE run_id = ?').all(id) as { record: string }[]).flatMap((r) => (JSON.parse(r.record).dreams as { text: string }[]).map((d) => d.text)));
      const expected = stored.filter((p) => holds(word, p.page.explanation.text) || dreamTexts(p.dreamRunIds).some((t) => holds(word, t))).map((p) => p.neuron);
      const found = s.sweptLayer(stored[0].model, 0, word).map((r) => r.neuron);
      expect(found).toContain(stored[3].neuron);
      expect(found).toEqual(expected);
      expect(s.sweptLayer(stored[0].model, 0, 'zzzqqqxx')).toEqual([]);
      // Punctuation only: no words, no filter that matches.
      expect(s.sweptLayer(stored[0].model, 0, '"(')).toEqual([]);
    } finally {
      s.close();
    }
  });
  it('--import: pages into another store once its history is there, all or nothing, a second time adding none', async () => {
    const file = join(dir, 'all.jsonl');
    expect((await runCli(['sweep', ...FLAGS, '--export', file])).code).toBe(0);
    const other = join(dir, 'other.db');
    // Without the history the pages were made from: refused, naming the fix, nothing written.
    const early = await runCli(['sweep', '--import', file, '--db', other]);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/is not in this store: import the exporting store's history first \(textdream history --export there, textdream history --import here\)/);
    const history = join(dir, 'history.json');
    expect((await runCli(['history', '--db', DB, '--export', history])).code).toBe(0);
    expect((await runCli(['history', '--db', other, '--import', history])).code).toBe(0);
    const imported = await runCli(['sweep', '--import', file, '--db', other, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ pages: 6, added: 6, present: 0 });
    const again = await runCli(['sweep', '--import', file, '--db', other, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ pages: 6, added: 0, present: 6 });
    const stored = storedPages();
    const rows = (db: string) => withStoreFile(db, (st) => st.sweptLayer(stored[0].model, 0));
    expect(rows(other)).toEqual(rows(DB));
    // The same sweep's --status in the other store: every neuron done.
    const status = await runCli(['sweep', ...FLAGS.map((f) => (f === DB ? other : f)), '--status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ total: 6, done: 6 });

    // A damaged file: settings edited (the hash no longer matches), or a page whose neuron is not its line's.
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const edited = JSON.parse(lines[0]);
    edited.settings.dreams[0].steps = 99;
    writeFileSync(join(dir, 'edited.jsonl'), [JSON.stringify(edited), ...lines.slice(1)].join('\n'));
    expect((await runCli(['sweep', '--import', join(dir, 'edited.jsonl'), '--db', other])).stderr).toMatch(/the settings do not hash to/);
    const third = join(dir, 'third.db');
    expect((await runCli(['history', '--db', third, '--import', history])).code).toBe(0);
    const bad = JSON.parse(lines[4]);
    bad.page.neuron = 99;
    writeFileSync(join(dir, 'bad.jsonl'), [...lines.slice(0, 4), JSON.stringify(bad), ...lines.slice(5)].join('\n'));
    const r = await runCli(['sweep', '--import', join(dir, 'bad.jsonl'), '--db', third]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.jsonl:5: the page is of L0N99, the line of L0N3/);
    expect(rows(third)).toEqual([]);
    expect((await runCli(['sweep', '--import', join(dir, 'nope.jsonl'), '--db', third])).stderr).toMatch(/cannot read .*nope\.jsonl/);
  });
});
