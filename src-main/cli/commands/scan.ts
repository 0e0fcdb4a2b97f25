// `textdream scan`: run a corpus through the model in windows and keep, for every MLP neuron of the chosen layers,
// its top windows, random windows, histogram and statistics in the experiment store. Resumable: the same command
// continues an interrupted scan where its last checkpoint left it.
import { CORPUS_NAMES } from '../../corpus/documents.js';
import { ObjectiveError } from '../../dream/objectives.js';
import { openSae } from '../../dream/run.js';
import { ModelFileError } from '../../model/errors.js';
import type { Sae } from '../../sae/load.js';
import { saeScanRef } from '../../sae/scanRef.js';
import { loadScanCorpus } from '../../scan/corpus.js';
import { checkScanConfig, DEFAULT_SCAN, defaultWindow, runScan, type ScanEvent } from '../../scan/run.js';
import { resolveStorePath } from '../../store/location.js';
import { modelRefOf } from '../../store/persist.js';
import { SqliteStore } from '../../store/sqlite.js';
import type { ScanConfig, ScanSummary } from '../../store/types.js';
import { isStoreUserError } from '../../store/userErrors.js';
import { intOption } from '../args.js';
import { defineCommand, printJSON, UsageError, type CommandIO } from '../command.js';
import { openModel } from '../model.js';
import { formatDuration, interruptible } from '../progress.js';
import { DB_OPTION } from '../store.js';


/** `0,2,5` or `0-3` (or a mix): sorted, without repeats; ranges are checked against the model later. */
export function parseLayers(value: string): number[] {
  const out = new Set<number>();
  for (const part of value.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`--layers must be layer numbers or ranges like 0,2 or 0-3; got "${value}"`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (b < a) throw new UsageError(`--layers: the range ${part} runs backwards`);
    for (let l = a; l <= b; l++) out.add(l);
  }
  return [...out].sort((x, y) => x - y);
}

const num = (n: number) => Math.round(n).toLocaleString('en-US');

export function progressLine(e: Extract<ScanEvent, { type: 'progress' }>): string {
  const pct = ((100 * e.tokensDone) / Math.max(1, e.tokensTotal)).toFixed(1);
  const eta = Number.isFinite(e.etaMs) ? formatDuration(e.etaMs) : '?';
  return `scan: ${num(e.tokensDone)}/${num(e.tokensTotal)} tokens (${pct} %) · ${e.windowsDone}/${e.windowsTotal} windows · ${num(e.tokensPerSecond)} tokens/s · ETA ${eta}`;
}

function summary(s: ScanSummary, db: string): string {
  const rate = s.elapsedMs > 0 ? ` · ${num(s.tokensDone / (s.elapsedMs / 1000))} tokens/s` : '';
  return (
    `scan ${s.id} ${s.status}: ${num(s.tokensDone)} tokens in ${s.windowsDone} windows of ${s.corpus} · ` +
    `${s.config.sae ? `${s.config.sae.latents} latents of the SAE ${s.config.sae.spec} (${s.config.sae.hook})` : `layers ${s.config.layers.join(',')}`} · ${formatDuration(s.elapsedMs)}${rate}\n` +
    `store: ${db}\n` +
    (s.config.sae
      ? `see a latent: textdream neuron --sae ${JSON.stringify(s.config.sae.spec)} --latent 0 --model ${JSON.stringify(s.model)} --db ${JSON.stringify(db)}\n`
      : `see a neuron: textdream neuron --layer ${s.config.layers[0]} --neuron 0 --model ${JSON.stringify(s.model)} --db ${JSON.stringify(db)}\n`)
  );
}

export default defineCommand({
  name: 'scan',
  summary: 'run a corpus through the model and store every MLP neuron\'s (or SAE latent\'s) top and random windows, histogram and statistics',
  usage: `--corpus <${CORPUS_NAMES.join('|')}|file.txt|file.jsonl> [--layers 0,2 | --sae L2.resid_pre] [--window <W>] [--batch <B>] [--top <k>] [--random <n>] [--max-tokens <N>] [--held-out] [--db <file>]`,
  options: {
    corpus: { type: 'string', arg: '<name|file>', description: `${CORPUS_NAMES.join(', ')}, or a .txt (documents separated by two blank lines) / .jsonl ({"text": …} per line) file` },
    layers: { type: 'string', arg: '<L,...>', description: 'layers to scan, e.g. 0,2 or 0-3 (default: all)' },
    sae: { type: 'string', arg: '<L2.resid_pre|dir|org/repo/folder>', description: "scan an SAE's latents instead of MLP neurons: one beside the model (L<layer>.<site>), a folder, or a hub folder" },
    window: { type: 'string', arg: '<W>', description: `tokens per window, each run behind an <|endoftext|> prefix (default ${DEFAULT_SCAN.window}, or the context − 1 when smaller)` },
    batch: { type: 'string', arg: '<B>', description: `windows per forward pass (default ${DEFAULT_SCAN.batch}; does not change the results)` },
    top: { type: 'string', arg: '<k>', description: `top windows kept per neuron (default ${DEFAULT_SCAN.top})` },
    random: { type: 'string', arg: '<n>', description: `random windows kept, the same for every neuron (default ${DEFAULT_SCAN.random})` },
    'max-tokens': { type: 'string', arg: '<N>', description: 'stop after about N tokens (windows are taken in a seeded random order)' },
    'held-out': { type: 'boolean', description: 'only the documents the default model never trained on (its held-out split)' },
    sample: { type: 'string', arg: '<S>', description: `histogram, quantiles, std and min from every S-th token (default ${DEFAULT_SCAN.sample}; 1 = all)` },
    seed: { type: 'string', arg: '<s>', description: `seed of the window order and the random windows (default ${DEFAULT_SCAN.seed})` },
    fresh: { type: 'boolean', description: 'start a new scan even when one with these settings exists (finished or not)' },
    db: DB_OPTION,
  },
  async run(values, _positionals, io) {
    const corpusSpec = values.corpus;
    if (!corpusSpec) throw new UsageError(`--corpus is required: ${CORPUS_NAMES.join(', ')}, or a .txt/.jsonl file`);
    const layers = values.layers !== undefined ? parseLayers(values.layers) : undefined;
    if (values.sae !== undefined && layers) throw new UsageError('--layers and --sae exclude each other: an SAE scan reads the layer of its hook');
    if (values.sae !== undefined && !values.sae.trim()) throw new UsageError('--sae is empty: name an SAE, e.g. --sae L2.resid_pre');
    const window = intOption(values.window, '--window', 1, 65535);
    const batch = intOption(values.batch, '--batch', 1, 4096) ?? DEFAULT_SCAN.batch;
    const maxTokens = intOption(values['max-tokens'], '--max-tokens', 1, Number.MAX_SAFE_INTEGER) ?? null;
    const base = {
      top: intOption(values.top, '--top', 1, 1000) ?? DEFAULT_SCAN.top,
      random: intOption(values.random, '--random', 0, 1000) ?? DEFAULT_SCAN.random,
      sample: intOption(values.sample, '--sample', 1, 65535) ?? DEFAULT_SCAN.sample,
      seed: intOption(values.seed, '--seed', 0, 2 ** 31 - 1) ?? DEFAULT_SCAN.seed,
      heldOut: Boolean(values['held-out']),
      maxTokens,
    };
    try {
      return await scanCommand(io, values, corpusSpec, layers, window, batch, base);
    } catch (e) {
      if (isStoreUserError(e)) throw new UsageError(e.message);
      throw e;
    }
  },
});

async function scanCommand(
  io: CommandIO,
  values: { model?: string; backend?: string; db?: string; fresh?: boolean; json?: boolean; sae?: string },
  corpusSpec: string,
  layers: number[] | undefined,
  window: number | undefined,
  batch: number,
  base: Omit<ScanConfig, 'layers' | 'window'>,
): Promise<number> {
  const dbPath = resolveStorePath(values.db, io.env);
  const corpus = await loadScanCorpus(corpusSpec, base.heldOut);
  io.stderr(`corpus: ${corpus.ref.spec} · ${corpus.docs.length} documents\n`);
  const { lm, spec } = await openModel(values, io);
  let sae: Sae | undefined;
  try {
    sae = values.sae !== undefined ? await openSae({ model: lm.model, modelDir: lm.source.dir, env: io.env }, values.sae) : undefined;
  } catch (e) {
    lm.model.dispose();
    if (e instanceof ObjectiveError || e instanceof ModelFileError) throw new UsageError(`--sae ${values.sae}: ${e.message}`);
    throw e;
  }
  const store = new SqliteStore(dbPath);
  const interrupt = interruptible(io, 'the scan (progress is kept; run the same command to continue)');
  try {
    const c = lm.config;
    const config: ScanConfig = sae
      ? { ...base, layers: [sae.config.hook.layer], sae: saeScanRef(values.sae!, sae), window: window ?? defaultWindow(c.nPositions) }
      : { ...base, layers: layers ?? [...Array(c.nLayer).keys()], window: window ?? defaultWindow(c.nPositions) };
    checkScanConfig(config, c);
    let last = 0;
    let final: ScanSummary | null = null;
    const units = config.sae ? `the ${config.sae.latents} latents of ${config.sae.spec} (${config.sae.hook})` : `layers ${config.layers.join(',')} · ${c.dMlp} neurons each`;
    for await (const e of runScan({ model: lm.model, tokenizer: lm.tokenizer, modelRef: modelRefOf(lm, spec), corpus, config, batch, store, sae, fresh: values.fresh, signal: interrupt.signal })) {
      if (e.type === 'plan') io.stderr(`plan: ${num(e.tokens)} tokens in ${num(e.windows)} windows of ${config.window} · ${units}\n`);
      else if (e.type === 'start') {
        if (e.alreadyComplete) io.stderr(`already scanned with these settings (scan ${e.scan.id}); pass --fresh to scan again\n`);
        else if (e.resumed) io.stderr(`resuming scan ${e.scan.id} at ${num(e.scan.tokensDone)}/${num(e.scan.tokensTotal)} tokens\n`);
        else io.stderr(`scan ${e.scan.id} → ${dbPath}\n`);
      } else if (e.type === 'progress') {
        const now = Date.now();
        const lastBatch = e.windowsDone === e.windowsTotal;
        if (io.stderrIsTTY) io.stderr(`\r${progressLine(e)}${lastBatch ? '\n' : ''}`);
        else if (now - last >= 5000 || lastBatch) {
          io.stderr(progressLine(e) + '\n');
          last = now;
        }
      } else if (e.type === 'done') final = e.scan;
    }
    if (!final) throw new Error('scan ended without a result');
    if (values.json) printJSON(io, final);
    else io.stdout(summary(final, dbPath));
    if (final.status === 'aborted') {
      io.stderr(`stopped at ${num(final.tokensDone)}/${num(final.tokensTotal)} tokens: run the same command to continue\n`);
      return 3;
    }
    return 0;
  } finally {
    interrupt.release();
    store.close();
    sae?.dispose();
    lm.model.dispose();
  }
}
