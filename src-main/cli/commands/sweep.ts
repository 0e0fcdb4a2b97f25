// `textdream sweep`: every chosen neuron of a model, one job each: the corpus scan (made once for all of them, as
// `textdream scan` makes it), dreams, an explanation scored by simulation, and the neuron's page, all kept in the
// experiment store. Resumable and idempotent per (model, neuron, settings): a rerun skips finished neurons, Ctrl-C
// keeps them, --force redoes them. `--status` reports where a sweep stands without loading the model.
import { CORPUS_NAMES } from '../../corpus/documents.js';
import { DreamConfigError } from '../../dream/config.js';
import { ObjectiveError } from '../../dream/objectives.js';
import { modelSaeHook, saeDir } from '../../dream/run.js';
import { ModelFileError } from '../../model/errors.js';
import { readSaeScanRef } from '../../sae/scanRef.js';
import type { ScanSae } from '../../store/types.js';
import { shippedSeedSource } from '../../dream/seedPool.js';
import { LLMError } from '../../explain/openai.js';
import { loadShippedJudge } from '../../readability/shipped.js';
import { DEFAULT_SCAN } from '../../scan/run.js';
import { resolveStorePath } from '../../store/location.js';
import { modelRefOf } from '../../store/persist.js';
import type { SqliteStore } from '../../store/sqlite.js';
import { isStoreUserError } from '../../store/userErrors.js';
import { SweepInputError } from '../../sweep/errors.js';
import { runNeuronJob, type NeuronJobContext } from '../../sweep/job.js';
import { redisConnection, startSweepWorker, type WorkerEvent } from '../../sweep/queue.js';
import { runQueuedSweep, type QueuedSweepProgress } from '../../sweep/queueSweep.js';
import { startRedisServer, RedisServerError, type RedisServer } from '../../sweep/redisServer.js';
import { expandJobs, jobLabel, parseSelection, settingsHash, type Selection } from '../../sweep/jobs.js';
import { modelIdentity } from '../../sweep/model.js';
import { runSweep, type SweepProgress, type SweepReport } from '../../sweep/runner.js';
import { pageDream } from '../../sweep/page.js';
import { scanSource } from '../../sweep/scan.js';
import { DEFAULT_SWEEP, parseMethods, SWEEP_METHODS, sweepSettings, type SweepRequest } from '../../sweep/settings.js';
import { sweepStatus, type SweepCounts, type SweepStatus } from '../../sweep/status.js';
import type { SweepJob, SweepSettings } from '../../sweep/types.js';
import { intOption } from '../args.js';
import { defineCommand, printJSON, UsageError, type CommandIO } from '../command.js';
import { chooseModel, openModel } from '../model.js';
import { fmt, formatDuration, interruptible, oneLine } from '../progress.js';
import { DB_OPTION, openCliStore, withStore } from '../store.js';
import type { LoadedModel } from '../../model/load.js';
import { layerReportHTML, pagesJSONL } from '../../sweep/export.js';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../writeAtomic.js';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { backends } from './explain.js';
import { progressLine as scanProgressLine } from './scan.js';

/** Exit code when the sweep ended with jobs out of attempts (0 all done, 2 usage, 3 stopped by Ctrl-C). */
export const EXIT_FAILED_JOBS = 4;

/** `[#########-----------]`: done and failed filled, running marked, pending empty. */
export function progressBar(c: SweepCounts, width = 24): string {
  if (!c.total) return `[${'-'.repeat(width)}]`;
  const cells = (n: number) => Math.round((n / c.total) * width);
  const done = cells(c.done);
  const failed = Math.min(width - done, cells(c.failed));
  const running = Math.min(width - done - failed, c.running ? Math.max(1, cells(c.running)) : 0);
  return `[${'#'.repeat(done)}${'x'.repeat(failed)}${'>'.repeat(running)}${'-'.repeat(width - done - failed - running)}]`;
}

export function countsLine(c: SweepCounts, etaMs: number): string {
  const eta = c.pending + c.running === 0 ? 'ETA 0 s' : Number.isFinite(etaMs) ? `ETA ${formatDuration(etaMs)}` : 'ETA ?';
  return `${progressBar(c)} ${c.done}/${c.total} done · ${c.running} running · ${c.failed} failed · ${c.pending} pending · ${eta}`;
}

function statusText(s: SweepStatus, spec: string, fingerprint: string, hash: string, db: string): string {
  const out = [`sweep of ${spec} (model ${fingerprint.slice(0, 12)}, settings ${hash}) in ${db}`, countsLine(s, s.etaMs)];
  if (Number.isFinite(s.meanJobMs)) out.push(`${formatDuration(s.meanJobMs)} per neuron on average`);
  for (const f of s.failures) out.push(`${f.exhausted ? 'failed' : 'will retry'}: L${f.layer}N${f.neuron} after ${f.attempts} attempt(s): ${f.error ?? '?'}`);
  return out.join('\n') + '\n';
}

function eventLine(p: SweepProgress): string | null {
  const at = `[${p.counts.done + p.counts.failed}/${p.counts.total}] ${jobLabel(p.job)}`;
  switch (p.type) {
    case 'done': {
      const note = p.run.written ? '' : ' (its page was written by another process first)';
      return `${at} done in ${formatDuration(p.run.elapsedMs)} · score ${p.run.score === null ? 'n/a' : fmt(p.run.score, 3)}${note}`;
    }
    case 'failed':
      return `${at} attempt ${p.attempt} failed${p.willRetry ? ' (retrying)' : ''}: ${p.error}`;
    case 'skip':
      return p.reason === 'running' ? `${at} is running in another process: skipped` : p.reason === 'exhausted' ? `${at} is out of attempts: skipped (--max-attempts or --force retries it)` : null;
    case 'stopped':
      return `${at} stopped before it finished: it runs again next time`;
    case 'start':
      return null;
  }
}

/** An endpoint that refuses us or is not there fails every neuron alike: stop the sweep and say so (exit 2). */
export function setupError(e: unknown): boolean {
  if (!(e instanceof LLMError)) return false;
  return e.reason === 'config' || e.reason === 'network' || (e.reason === 'http' && [401, 403, 404].includes(e.status ?? 0));
}

export default defineCommand({
  name: 'sweep',
  summary: 'scan, dream, explain and score every chosen neuron, one job each, keeping each neuron\'s page in the store (resumable; --status shows progress)',
  usage: '[--layers <all|0-3>] [--neurons <all|0-63|1,5,9>] [--methods fluent,...] [--steps <n>] [--seed <s>] [--corpus <name|file>] [--max-tokens <N>] [--force] [--status] [--db <file>] [--json]',
  options: {
    layers: { type: 'string', arg: '<all|L-L|L,...>', description: 'layers whose neurons are swept, e.g. 0-3 or 1,2 (default all)' },
    neurons: { type: 'string', arg: '<all|N-N|N,...>', description: 'neurons of each of those layers (with --sae: latents), e.g. all, 0-63 or 1,5,9 (default all)' },
    sae: { type: 'string', arg: '<L2.resid_pre|dir>', description: "sweep an SAE's latents instead of MLP neurons: its scan, dreams of sae:<X>:N, explanations of latents" },
    methods: { type: 'string', arg: `<${SWEEP_METHODS.join('|')},...>`, description: `dream methods, one dream each per neuron (default ${DEFAULT_SWEEP.methods.join(',')})` },
    steps: { type: 'string', arg: '<n>', description: `optimisation steps of each dream (default ${DEFAULT_SWEEP.steps})` },
    'seq-len': { type: 'string', arg: '<T>', description: 'free tokens per dream (default as textdream dream)' },
    seed: { type: 'string', arg: '<s>', description: `seed of the dreams; the same seed gives the same pages (default ${DEFAULT_SWEEP.seed})` },
    corpus: { type: 'string', arg: '<name|file>', description: `what the scan reads, as textdream scan: ${CORPUS_NAMES.join(', ')} or a .txt/.jsonl file (default ${DEFAULT_SWEEP.corpus})` },
    'held-out': { type: 'boolean', description: 'scan only the documents the default model never trained on (its held-out split)' },
    'max-tokens': { type: 'string', arg: '<N>', description: 'scan about N tokens (default the whole corpus)' },
    window: { type: 'string', arg: '<W>', description: `scan window in tokens (default ${DEFAULT_SCAN.window}, or the context − 1 when smaller)` },
    top: { type: 'string', arg: '<k>', description: `top windows the scan keeps per neuron (default ${DEFAULT_SCAN.top})` },
    random: { type: 'string', arg: '<n>', description: `random windows the scan keeps (default ${DEFAULT_SCAN.random})` },
    batch: { type: 'string', arg: '<B>', description: `scan windows per forward pass (default ${DEFAULT_SCAN.batch}; does not change the results)` },
    'with-dreams': { type: 'boolean', description: 'explain twice, without and with the dreams as extra records, and keep the uplift' },
    llm: { type: 'boolean', description: 'explain and simulate with an OpenAI-compatible endpoint, as textdream explain --llm' },
    'llm-base-url': { type: 'string', arg: '<url>', description: 'endpoint base (overrides the environment)' },
    'llm-model': { type: 'string', arg: '<name>', description: 'model name the endpoint serves (overrides TEXTDREAM_LLM_MODEL)' },
    'llm-timeout': { type: 'string', arg: '<ms>', description: 'time-out per request in ms' },
    force: { type: 'boolean', description: 'redo neurons already done (their pages are replaced) and failed ones' },
    'max-attempts': { type: 'string', arg: '<n>', description: `attempts per neuron over all runs before it counts as failed (default ${DEFAULT_SWEEP.maxAttempts})` },
    redis: { type: 'string', arg: '<auto|redis://host:port>', description: 'run the jobs on a BullMQ queue in Redis: auto starts Debian\'s redis-server on a loopback port (data beside the store), or give a running one; `textdream worker --redis <url>` adds workers' },
    'no-work': { type: 'boolean', description: 'with --redis: enqueue and follow the sweep, but leave every job to `textdream worker` processes' },
    'enqueue-only': { type: 'boolean', description: 'with --redis <url>: put the jobs on the queue and exit' },
    import: { type: 'string', arg: '<file.jsonl>', description: 'read pages another store exported (after `textdream history --import` of that store\'s history), all or nothing; needs no model or settings flags' },
    export: { type: 'string', arg: '<file.jsonl>', description: 'write the sweep\'s finished pages as JSON lines (schema: docs/sweep-pages.md); reads the store only, as --status' },
    report: { type: 'string', arg: '<file.html>', description: 'write a self-contained HTML report of the sweep\'s pages (a sortable, filterable table); reads the store only' },
    status: { type: 'boolean', description: 'only report done / running / failed / pending neurons and the ETA of the sweep these flags describe (give the same settings; loads no weights)' },
    db: DB_OPTION,
  },
  async run(values, _positionals, io) {
    if (values.import !== undefined) return importCommand(io, values.import, resolveStorePath(values.db, io.env), Boolean(values.json));
    let layers: Selection;
    let neurons: Selection;
    let request: SweepRequest;
    try {
      layers = parseSelection(values.layers ?? 'all', '--layers', 'layer');
      neurons = parseSelection(values.neurons ?? 'all', '--neurons', 'neuron');
      request = {
        corpus: values.corpus ?? DEFAULT_SWEEP.corpus,
        heldOut: Boolean(values['held-out']),
        maxTokens: intOption(values['max-tokens'], '--max-tokens', 1, Number.MAX_SAFE_INTEGER) ?? null,
        window: intOption(values.window, '--window', 1, 65535),
        // Explaining needs two top windows (one to explain from, one to score on).
        top: intOption(values.top, '--top', 2, 1000),
        random: intOption(values.random, '--random', 1, 1000),
        methods: values.methods !== undefined ? parseMethods(values.methods) : DEFAULT_SWEEP.methods,
        steps: intOption(values.steps, '--steps', 1, 1_000_000) ?? DEFAULT_SWEEP.steps,
        seed: intOption(values.seed, '--seed', 0, 2 ** 31 - 1) ?? DEFAULT_SWEEP.seed,
        seqLen: intOption(values['seq-len'], '--seq-len', 1, 1023),
        explainer: 'offline',
        withDreams: Boolean(values['with-dreams']),
      };
    } catch (e) {
      if (e instanceof SweepInputError) throw new UsageError(e.message);
      throw e;
    }
    const batch = intOption(values.batch, '--batch', 1, 4096);
    const maxAttempts = intOption(values['max-attempts'], '--max-attempts', 1, 1000) ?? DEFAULT_SWEEP.maxAttempts;
    const explain = backends(values, io);
    request.explainer = explain.explainer.name;
    const redis = values.redis;
    if (redis === undefined) for (const flag of ['no-work', 'enqueue-only'] as const) if (values[flag]) throw new UsageError(`--${flag} needs --redis (the jobs go on a queue)`);
    // A URL is checked before anything loads.
    if (redis !== undefined && redis !== 'auto') {
      try {
        redisConnection(redis);
      } catch (e) {
        if (e instanceof SweepInputError) throw new UsageError(e.message);
        throw e;
      }
    }
    if (redis === 'auto' && values['enqueue-only']) throw new UsageError('--enqueue-only leaves the jobs in a Redis that must outlive this command: start redis-server yourself and pass --redis redis://127.0.0.1:<port>');
    const readOnly = values.status || values.export !== undefined || values.report !== undefined;
    for (const flag of ['export', 'report'] as const) if (values[flag] === '') throw new UsageError(`--${flag} needs a file name, e.g. --${flag} ${flag === 'export' ? 'pages.jsonl' : 'layer.html'}`);
    if (readOnly && redis !== undefined) throw new UsageError('--status, --export and --report read the store only: drop --redis');
    if (readOnly) {
      for (const flag of ['force', 'batch'] as const) if (values[flag] !== undefined) throw new UsageError(`--status, --export and --report only read the store: drop --${flag}`);
    }
    if (values.sae !== undefined && values.layers !== undefined) throw new UsageError('--layers does not apply with --sae: an SAE sweep covers its hook\'s layer; choose latents with --neurons');
    if (values.sae !== undefined && !values.sae.trim()) throw new UsageError('--sae is empty: name an SAE, e.g. --sae L2.resid_pre');
    const dbPath = resolveStorePath(values.db, io.env);
    try {
      if (readOnly) return await statusCommand(io, values, layers, neurons, request, maxAttempts, dbPath);
      return await sweepCommand(io, values, layers, neurons, request, { batch, maxAttempts, dbPath, explain, redis });
    } catch (e) {
      if (e instanceof SweepInputError || e instanceof DreamConfigError || e instanceof RedisServerError || isStoreUserError(e)) throw new UsageError(e.message);
      if (e instanceof ObjectiveError || e instanceof ModelFileError) throw new UsageError(`--sae ${values.sae}: ${e.message}`);
      throw e;
    }
  },
});

/**
 * The SAE a `--sae` sweep covers, read from its folder (nothing loaded). A folder is kept as its absolute path, so
 * workers started elsewhere find it; `L2.resid_pre` stays a name, found beside each worker's model.
 */
async function sweepSae(where: string | undefined, modelDir: string | undefined, env: NodeJS.ProcessEnv): Promise<ScanSae | undefined> {
  if (where === undefined) return undefined;
  const dir = await saeDir({ modelDir, env }, where);
  return readSaeScanRef(modelSaeHook(where) ? where : dir, dir);
}

/** Settings and jobs for a model of this shape (model-dependent checks: layer and neuron ranges, the window). */
function plan(model: { fingerprint: string; nLayer: number; dMlp: number; nPositions: number }, layers: Selection, neurons: Selection, request: SweepRequest): { settings: SweepSettings; jobs: SweepJob[] } {
  const settings = sweepSettings(request, model);
  if (settings.scan.window > model.nPositions - 1) throw new SweepInputError(`--window ${settings.scan.window} is out of range: use 1-${model.nPositions - 1} (the context is ${model.nPositions}; one position goes to the <|endoftext|> prefix)`);
  return { settings, jobs: expandJobs(model.fingerprint, model, layers, neurons, settings) };
}

async function statusCommand(
  io: CommandIO,
  values: { model?: string; json?: boolean; export?: string; report?: string; status?: boolean; sae?: string },
  layers: Selection,
  neurons: Selection,
  request: SweepRequest,
  maxAttempts: number,
  dbPath: string,
): Promise<number> {
  const spec = chooseModel(values.model, io);
  const id = await modelIdentity(spec, { env: io.env });
  request = { ...request, sae: await sweepSae(values.sae, id.dir, io.env) };
  const { settings, jobs } = plan({ fingerprint: id.fingerprint, ...id.config }, layers, neurons, request);
  const hash = settingsHash(settings);
  const store = openCliStore(dbPath);
  try {
    if (values.export !== undefined || values.report !== undefined) {
      const wanted = new Set(jobs.map((j) => `${j.layer}:${j.neuron}`));
      const rows = store.sweepPages(id.fingerprint, hash).filter((r) => wanted.has(`${r.layer}:${r.neuron}`));
      const meta = { modelSpec: spec, modelFingerprint: id.fingerprint, settingsHash: hash, settings };
      const layersIn = [...new Set(rows.map((r) => r.layer))];
      if (values.export !== undefined) await writeFileAtomic(values.export, pagesJSONL(rows, meta));
      if (values.report !== undefined) await writeFileAtomic(values.report, layerReportHTML(rows, meta, `textdream sweep: ${layersIn.length === 1 ? `layer ${layersIn[0]}` : `${layersIn.length} layers`} of ${spec}`));
      const where = [values.export, values.report].filter((x) => x !== undefined).join(' and ');
      if (values.json) printJSON(io, { pages: rows.length, of: jobs.length, export: values.export ?? null, report: values.report ?? null });
      else io.stdout(`wrote ${rows.length} of ${jobs.length} neuron page(s) to ${where}\n`);
      if (!rows.length) io.stderr(`no finished pages for these settings in ${dbPath}: run the sweep first (textdream sweep with the same flags), or check --status\n`);
      if (!values.status) return 0;
    }
    const status = sweepStatus(jobs, store.sweepJobStates(id.fingerprint, hash), maxAttempts);
    if (values.json) printJSON(io, { model: spec, modelFingerprint: id.fingerprint, settingsHash: hash, settings, store: dbPath, ...status });
    else io.stdout(statusText(status, spec, id.fingerprint, hash, dbPath));
    return 0;
  } finally {
    store.close();
  }
}

async function importCommand(io: CommandIO, file: string, dbPath: string, json: boolean): Promise<number> {
  if (!file) throw new UsageError('--import needs a file name, e.g. --import pages.jsonl');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const r = await withStore(dbPath, (store) => store.importSweepPages(text, file));
  if (json) printJSON(io, { import: file, store: dbPath, ...r });
  else io.stdout(`imported ${r.added} of ${r.pages} neuron page(s) from ${file} into ${dbPath}${r.present ? ` (${r.present} were there already)` : ''}\n`);
  return 0;
}

/**
 * The job context of a sweep's process: the loaded model, the store, the scan source (with progress lines), the
 * explainer, the readability judge and `seeded`'s seed pool.
 */
export async function neuronJobContext(
  io: CommandIO,
  lm: LoadedModel,
  modelRef: NeuronJobContext['modelRef'],
  store: SqliteStore,
  explain: ReturnType<typeof backends>,
  batch: number | undefined,
): Promise<NeuronJobContext> {
  let lastScanLine = 0;
  const scans = scanSource({
    model: lm.model,
    tokenizer: lm.tokenizer,
    modelRef,
    store,
    batch,
    modelDir: lm.source.dir,
    env: io.env,
    onEvent: (e, settings) => {
      if (e.type === 'plan') io.stderr(`scan: ${e.tokens} tokens in ${e.windows} windows of ${settings.window} · ${settings.sae ? `the ${settings.sae.latents} latents of ${settings.sae.spec}` : `all ${lm.config.nLayer} layers`}\n`);
      else if (e.type === 'start' && e.resumed) io.stderr(`scan: resuming ${e.scan.id} at ${e.scan.tokensDone}/${e.scan.tokensTotal} tokens\n`);
      else if (e.type === 'progress' && (Date.now() - lastScanLine >= 5000 || e.windowsDone === e.windowsTotal)) {
        lastScanLine = Date.now();
        io.stderr(scanProgressLine(e) + '\n');
      } else if (e.type === 'done') io.stderr(`scan: ${e.scan.id} ${e.scan.status} (${e.scan.corpus})\n`);
    },
  });
  return {
    model: lm.model,
    tokenizer: lm.tokenizer,
    modelDir: lm.source.dir,
    modelRef,
    store,
    scans,
    explainer: explain.explainer,
    simulator: explain.simulator,
    llm: explain.client?.describe() ?? null,
    judge: (await loadShippedJudge(lm.tokenizer)).judge,
    seedSource: shippedSeedSource(lm.model, lm.tokenizer),
  };
}

/** One line per worker event, as the in-process runner's lines read. */
export function workerEventLine(e: WorkerEvent): string | null {
  switch (e.type) {
    case 'start':
      return `${jobLabel(e.job)} started (delivery ${e.delivery})`;
    case 'done':
      return `${jobLabel(e.job)} ${e.result.outcome === 'written' ? `done in ${formatDuration(e.result.elapsedMs)} · score ${e.result.score === null ? 'n/a' : fmt(e.result.score, 3)}` : 'was done already: nothing written'}`;
    case 'failed':
      return `${jobLabel(e.job)} delivery ${e.delivery} failed${e.willRetry ? ' (retrying)' : ''}: ${e.error}`;
    case 'returned':
      return `${jobLabel(e.job)} returned to the queue`;
  }
}

/** Errors of a queue connection, each distinct message at most once in 10 s (a Redis restart repeats them). */
export function queueErrorReporter(io: CommandIO, who: string): (e: Error) => void {
  const last = new Map<string, number>();
  return (e) => {
    const now = Date.now();
    if (now - (last.get(e.message) ?? 0) < 10_000) return;
    last.set(e.message, now);
    io.stderr(`${who}: ${e.message} (retrying)\n`);
  };
}

async function sweepCommand(
  io: CommandIO,
  values: { model?: string; backend?: string; json?: boolean; force?: boolean; 'no-work'?: boolean; 'enqueue-only'?: boolean; sae?: string },
  layers: Selection,
  neurons: Selection,
  request: SweepRequest,
  o: { batch: number | undefined; maxAttempts: number; dbPath: string; explain: ReturnType<typeof backends>; redis?: string },
): Promise<number> {
  const { lm, spec } = await openModel(values, io);
  let store: SqliteStore | undefined;
  let redis: RedisServer | undefined;
  const interrupt = interruptible(io, 'the sweep (finished neurons are kept; run the same command to continue)');
  try {
    const modelRef = modelRefOf(lm, spec);
    request = { ...request, sae: await sweepSae(values.sae, lm.source.dir, io.env) };
    const { settings, jobs } = plan({ fingerprint: modelRef.fingerprint, ...lm.config }, layers, neurons, request);
    const hash = settingsHash(settings);
    store = openCliStore(o.dbPath);
    io.stderr(`sweep: ${jobs.length} neuron(s) of ${spec} · settings ${hash} · ${settings.dreams.map((d) => `${d.method} ${d.steps} steps`).join(', ')} · explainer ${o.explain.explainer.name} → ${o.dbPath}\n`);
    const ctx = await neuronJobContext(io, lm, modelRef, store, o.explain, o.batch);
    const printPage = (job: SweepJob) => {
      if (values.json) return;
      const page = store!.sweepPage(job)?.page;
      const best = page ? pageDream(page) : null;
      io.stdout(`${jobLabel(job)}  score ${page?.explanation.score === null || !page ? 'n/a' : fmt(page.explanation.score, 3)}  ${page ? oneLine(page.explanation.text, 60) : ''}  dream ${best ? oneLine(best.text, 50) : 'n/a'}\n`);
    };
    let report: SweepReport;
    if (o.redis !== undefined) {
      if (o.redis === 'auto') {
        // Beside the store, so a rerun against the same store finds its queue again.
        const dir = o.dbPath === ':memory:' ? join(tmpdir(), `textdream-redis-${process.pid}`) : join(dirname(o.dbPath), 'textdream-redis');
        redis = await startRedisServer({ dir });
        io.stderr(`redis: started on ${redis.url} (data in ${dir}); more workers: textdream worker --redis ${redis.url} --db ${o.dbPath}\n`);
      }
      const url = redis?.url ?? o.redis;
      const connection = redisConnection(url);
      // The scan first, here: every worker then finds it done instead of racing to make it.
      await ctx.scans.ensure(settings.scan, interrupt.signal);
      // A setup error in the local worker (a refused key) stops the sweep as it stops an in-process one.
      let fatal: { error: unknown } | null = null;
      const setupStop = new AbortController();
      const local = values['no-work'] || values['enqueue-only'] ? null : startSweepWorker({
        connection,
        store,
        run: (job, opts) => runNeuronJob(job, ctx, opts),
        isFatal: setupError,
        onFatal: (error) => {
          fatal = { error };
          setupStop.abort();
        },
        onEvent: (e) => {
          const line = workerEventLine(e);
          if (line && e.type !== 'done') io.stderr(`worker: ${line}\n`);
        },
        onError: queueErrorReporter(io, 'worker'),
      });
      try {
        const q = await runQueuedSweep({
          connection,
          jobs,
          maxAttempts: o.maxAttempts,
          force: values.force,
          isDone: (k) => store!.sweepPage(k) !== null,
          signal: AbortSignal.any([interrupt.signal, setupStop.signal]),
          onError: queueErrorReporter(io, 'queue'),
          enqueueOnly: values['enqueue-only'],
          onEnqueued: (r) => io.stderr(`queue: ${r.added} job(s) added, ${r.queued} already queued, ${r.done} done before · ${url}\n`),
          onProgress: (p: QueuedSweepProgress) => {
            // Numbered as they were seen finishing (the counts are of the whole look at the queue).
            let n = p.counts.done + p.counts.failed - p.finished.length - p.failed.length;
            for (const f of p.finished) {
              io.stderr(`[${++n}/${p.counts.total}] ${jobLabel(f.job)} ${f.result?.outcome === 'written' ? `done in ${formatDuration(f.result.elapsedMs)}` : 'done'}\n`);
              printPage(f.job);
            }
            for (const f of p.failed) io.stderr(`[${++n}/${p.counts.total}] ${jobLabel(f.job)} failed ${o.maxAttempts} time(s): ${f.error}\n`);
            if (p.finished.length || p.failed.length) io.stderr(`${countsLine(p.counts, p.etaMs)} · ${p.workers} worker(s)\n`);
          },
        });
        report = q;
      } finally {
        await local?.stop();
      }
      if (fatal) throw (fatal as { error: unknown }).error;
    } else {
      report = await runSweep({
        jobs,
        store,
        run: (job, opts) => runNeuronJob(job, ctx, opts),
        maxAttempts: o.maxAttempts,
        force: values.force,
        signal: interrupt.signal,
        isFatal: setupError,
        onProgress: (p) => {
          const line = eventLine(p);
          if (line) io.stderr(`${line}\n`);
          if (p.type === 'done' || p.type === 'failed') io.stderr(`${countsLine(p.counts, p.etaMs)}\n`);
          if (p.type === 'done') printPage(p.job);
        },
      });
    }
    if (values['enqueue-only']) {
      io.stdout(`queued on ${o.redis}: start workers with textdream worker --redis ${o.redis} --db ${o.dbPath}; follow with textdream sweep --status (same flags)\n`);
      return 0;
    }
    const status = sweepStatus(jobs, store.sweepJobStates(modelRef.fingerprint, hash), o.maxAttempts);
    if (values.json) printJSON(io, { model: spec, modelFingerprint: modelRef.fingerprint, settingsHash: hash, settings, store: o.dbPath, report, status });
    else io.stdout(`${countsLine(status, status.etaMs)}\nthis run: ${report.ran} neuron(s) in ${formatDuration(report.elapsedMs)}${report.stopped ? ' (stopped)' : ''} · store ${o.dbPath}\n`);
    if (report.stopped) {
      io.stderr(`stopped: finished neurons are kept; run the same command to continue${o.redis !== undefined && o.redis !== 'auto' ? ' (queued jobs stay on the queue for its workers)' : ''}\n`);
      return 3;
    }
    if (report.failed || status.failed) {
      io.stderr(`${report.failed || status.failed} neuron(s) failed ${o.maxAttempts} time(s): see their errors with --status; --max-attempts <more> or --force retries them\n`);
      return EXIT_FAILED_JOBS;
    }
    return 0;
  } catch (e) {
    if (e instanceof LLMError) throw new UsageError(e.message);
    throw e;
  } finally {
    interrupt.release();
    await redis?.stop();
    store?.close();
    lm.model.dispose();
  }
}
