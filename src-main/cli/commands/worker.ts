// `textdream worker --redis <url>`: takes sweep jobs from the queue a `textdream sweep --redis` put them on and runs
// each through the same job function as the in-process sweep, writing pages into the store it opens (`--db`, the
// sweep's store: same machine, or a folder both reach). Runs until Ctrl-C or SIGTERM, which return the running
// job to the queue; a worker killed outright (SIGKILL) loses its job's lock, and another worker delivers it again.
import { LLMError } from '../../explain/openai.js';
import { resolveStorePath } from '../../store/location.js';
import { modelRefOf } from '../../store/persist.js';
import { isStoreUserError } from '../../store/userErrors.js';
import { SweepInputError } from '../../sweep/errors.js';
import { runNeuronJob } from '../../sweep/job.js';
import { redisConnection, startSweepWorker } from '../../sweep/queue.js';
import { intOption } from '../args.js';
import { defineCommand, UsageError } from '../command.js';
import { openModel } from '../model.js';
import { DB_OPTION, openCliStore } from '../store.js';
import { backends } from './explain.js';
import { neuronJobContext, queueErrorReporter, setupError, workerEventLine } from './sweep.js';

export default defineCommand({
  name: 'worker',
  summary: 'run sweep jobs from a Redis queue (textdream sweep --redis puts them there) until Ctrl-C',
  usage: '--redis <redis://host:port> [--model <dir|hub id>] [--db <file>] [--llm ...] [--lock-duration <ms>]',
  options: {
    redis: { type: 'string', arg: '<redis://host:port>', description: 'the queue\'s Redis, as the sweep printed it' },
    'lock-duration': { type: 'string', arg: '<ms>', description: 'how long a job stays locked to this worker without renewal: a killed worker\'s job is delivered again about this much later (default 30000)' },
    'stalled-interval': { type: 'string', arg: '<ms>', description: 'how often this worker looks for jobs of dead workers (default 30000)' },
    'max-stalled': { type: 'string', arg: '<n>', description: 'times a job may lose its worker before it is failed (default 1)' },
    batch: { type: 'string', arg: '<B>', description: 'scan windows per forward pass, when this worker has to make the scan' },
    llm: { type: 'boolean', description: 'explain with an OpenAI-compatible endpoint (the sweep\'s jobs must ask for it)' },
    'llm-base-url': { type: 'string', arg: '<url>', description: 'endpoint base (overrides the environment)' },
    'llm-model': { type: 'string', arg: '<name>', description: 'model name the endpoint serves' },
    'llm-timeout': { type: 'string', arg: '<ms>', description: 'time-out per request in ms' },
    db: DB_OPTION,
  },
  async run(values, _positionals, io) {
    if (!values.redis) throw new UsageError('--redis is required: the URL of the queue\'s Redis, e.g. --redis redis://127.0.0.1:6379 (textdream sweep --redis auto prints it)');
    let connection;
    try {
      connection = redisConnection(values.redis);
    } catch (e) {
      if (e instanceof SweepInputError) throw new UsageError(e.message);
      throw e;
    }
    const DAY_MS = 86_400_000;
    const lockDurationMs = intOption(values['lock-duration'], '--lock-duration', 500, DAY_MS);
    const stalledIntervalMs = intOption(values['stalled-interval'], '--stalled-interval', 100, DAY_MS);
    const maxStalledCount = intOption(values['max-stalled'], '--max-stalled', 0, DAY_MS);
    const batch = intOption(values.batch, '--batch', 1, DAY_MS);
    const explain = backends(values, io);
    const dbPath = resolveStorePath(values.db, io.env);
    const { lm, spec } = await openModel(values, io);
    let store;
    try {
      store = openCliStore(dbPath);
      const modelRef = modelRefOf(lm, spec);
      const ctx = await neuronJobContext(io, lm, modelRef, store, explain, batch);
      // Ctrl-C / SIGTERM, or a setup error that would fail every job (the job goes back to the queue first).
      let stopFor: (error?: unknown) => void = () => {};
      const stopped = new Promise<{ error: unknown } | null>((resolve) => {
        stopFor = (error?: unknown) => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          if (error === undefined) io.stderr('worker: stopping (the running job goes back to the queue)\n');
          else io.stderr('worker: stopping: this setup would fail every job (the job went back to the queue)\n');
          resolve(error === undefined ? null : { error });
        };
        const onSignal = () => stopFor();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      const s = store;
      const w = startSweepWorker({
        connection,
        store: s,
        run: (job, opts) => runNeuronJob(job, ctx, opts),
        lockDurationMs,
        stalledIntervalMs,
        maxStalledCount,
        onEvent: (e) => {
          const line = workerEventLine(e);
          if (line) io.stderr(`${line}\n`);
        },
        onError: queueErrorReporter(io, 'worker'),
        isFatal: setupError,
        onFatal: (error) => stopFor(error),
      });
      io.stderr(`worker: ${spec} (model ${modelRef.fingerprint.slice(0, 12)}) on ${values.redis} → ${dbPath}; Ctrl-C stops\n`);
      const fatal = await stopped;
      await w.stop();
      if (fatal) throw fatal.error;
      return 0;
    } catch (e) {
      if (e instanceof LLMError) throw new UsageError(e.message);
      if (isStoreUserError(e)) throw new UsageError((e as Error).message);
      throw e;
    } finally {
      store?.close();
      lm.model.dispose();
    }
  },
});
