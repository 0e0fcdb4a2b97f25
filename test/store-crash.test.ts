// A process killed with SIGKILL in the middle of writes leaves a consistent store: integrity_check passes, every
// stored step record is whole, the counts agree, and the run shows as interrupted. A killed scan resumes from its
// last checkpoint to the same results as a scan never interrupted.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import type { StepRecord } from '../src-main/dream/loop.js';
import { loadScanCorpus } from '../src-main/scan/corpus.js';
import { runScan } from '../src-main/scan/run.js';
import { SqliteStore } from '../src-main/store/sqlite.js';
import { gpt2Tokenizer } from '../src-main/train/lmCorpus.js';
import { plantedModel, writePlantedCorpus } from './helpers/plantedModel.js';
import { CHILD_DREAMS, CHILD_TOKENS, SCAN_CONFIG, SCAN_MODEL } from './helpers/scanFixture.js';

const dir = mkdtempSync(join(tmpdir(), 'textdream-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CHILD = join(process.cwd(), 'test', 'helpers', 'storeChild.ts');

/** Start the child, wait until `ready(line)` says enough writes are done, SIGKILL it, wait for it to be gone. */
function killDuringWrites(args: string[], ready: (line: string) => boolean): Promise<{ lines: string[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let err = '';
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child never got far enough:\n${lines.slice(-5).join('\n')}\n${err}`));
    }, 90_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d.slice(0, 2000)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        if (ready(l) && !child.killed) child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ lines, signal });
    });
  });
}

describe('SIGKILL during writes', () => {
  it('dream steps: the store opens consistent, records whole, the run interrupted', async () => {
    const db = join(dir, 'dream.db');
    const { lines, signal } = await killDuringWrites(['dream', db], (l) => /^step (\d+)$/.test(l) && Number(l.slice(5)) >= 40);
    expect(signal).toBe('SIGKILL');
    const runId = lines.find((l) => l.startsWith('run '))!.slice(4);
    const announced = Math.max(...lines.filter((l) => l.startsWith('step ')).map((l) => Number(l.slice(5))));

    const s = new SqliteStore(db);
    expect(s.integrityCheck()).toBe('ok');
    const run = s.getDreamRun(runId)!;
    expect(run.status).toBe('interrupted');
    const counts = s.db.prepare('SELECT records, steps FROM dream_runs WHERE id = ?').get(runId) as { records: number; steps: number };
    const rows = s.db.prepare('SELECT step, record FROM dream_steps WHERE run_id = ? ORDER BY step').all(runId) as { step: number; record: string }[];
    // Committed steps are all there (at least those announced), consecutive, and each is complete.
    expect(rows.length).toBeGreaterThanOrEqual(announced);
    expect(rows.map((r) => r.step)).toEqual(rows.map((_, i) => i + 1));
    expect(counts).toEqual({ records: rows.length, steps: rows.length });
    expect(run.records).toHaveLength(rows.length);
    for (const r of rows) {
      const rec = JSON.parse(r.record) as StepRecord;
      expect(rec.step).toBe(r.step);
      expect(rec.dreams).toHaveLength(CHILD_DREAMS);
      for (const d of rec.dreams) expect(d.tokens).toHaveLength(CHILD_TOKENS);
    }
    // Every step's texts reached the search index in the same transactions.
    const indexed = s.db.prepare(`SELECT COUNT(*) FROM search WHERE kind = 'dream' AND ref = ?`).pluck().get(runId);
    expect(indexed).toBe(rows.length);
    // The store keeps working after the crash.
    s.appendDreamStep(runId, { ...run.records[0], step: rows.length + 1 });
    expect(s.integrityCheck()).toBe('ok');
    s.close();
  });

  it('a scan: consistent checkpoint, interrupted, and resuming gives the unbroken scan\'s results', async () => {
    const corpusPath = writePlantedCorpus(join(dir, 'planted.jsonl'));
    const db = join(dir, 'scan.db');
    const { lines, signal } = await killDuringWrites(['scan', db, corpusPath], (l) => /^checkpoint 6 /.test(l));
    expect(signal).toBe('SIGKILL');
    expect(lines).not.toContain('done');

    const s = new SqliteStore(db);
    expect(s.integrityCheck()).toBe('ok');
    const scan = s.listScans()[0];
    expect(scan.status).toBe('interrupted');
    expect(scan.windowsDone).toBeGreaterThanOrEqual(6);
    expect(scan.windowsDone).toBeLessThan(scan.windowsTotal);
    // Everything in the store belongs to the last checkpoint: statistics cover exactly tokensDone tokens,
    // top windows at most windowsDone per neuron, random rows for the first min(R, windowsDone) windows.
    for (const st of s.loadScanState(scan.id).stats) expect(st.tokens).toBe(scan.tokensDone);
    const top = s.loadScanState(scan.id).top;
    expect(top).toHaveLength(2 * 8);
    for (const t of top) {
      expect(t.windows.length).toBe(Math.min(SCAN_CONFIG.top, scan.windowsDone));
      expect(t.acts.length).toBe(Array.from(t.lengths).reduce((a, b) => a + b, 0));
    }
    const random = s.loadScanState(scan.id).random;
    const stored = new Set((s.db.prepare('SELECT idx FROM scan_windows WHERE scan_id = ?').pluck().all(scan.id) as number[]));
    expect(random).toHaveLength(2 * 8);
    for (const r of random) {
      expect(r.windows.length).toBe(Math.min(SCAN_CONFIG.random, scan.windowsDone));
      expect(r.acts.length).toBe(Array.from(r.lengths).reduce((a, b) => a + b, 0));
      for (const w of r.windows) expect(stored.has(w)).toBe(true);
    }
    for (const t of top) for (const w of t.windows) expect(stored.has(w)).toBe(true);

    // Resume here (the same settings find the interrupted scan), and compare with an unbroken scan.
    await initBackend('wasm');
    const model = plantedModel();
    const tok = gpt2Tokenizer();
    const corpus = await loadScanCorpus(corpusPath, false);
    const drive = async (store: SqliteStore) => {
      for await (const e of runScan({ model, tokenizer: tok, modelRef: SCAN_MODEL, corpus, config: SCAN_CONFIG, batch: 2, store })) void e;
    };
    await drive(s);
    const whole = new SqliteStore(join(dir, 'whole.db'));
    await drive(whole);
    expect(s.listScans()).toHaveLength(1);
    expect(s.listScans()[0]).toMatchObject({ id: scan.id, status: 'completed', windowsDone: scan.windowsTotal });
    for (const layer of [0, 1]) {
      for (let n = 0; n < 8; n++) {
        const a = whole.neuronPage({ model: SCAN_MODEL.fingerprint, layer, neuron: n })!;
        const b = s.neuronPage({ model: SCAN_MODEL.fingerprint, layer, neuron: n })!;
        expect(b.stats).toEqual(a.stats);
        expect(b.top).toEqual(a.top);
        expect(b.random).toEqual(a.random);
      }
    }
    model.dispose();
    whole.close();
    s.close();
  });
});
