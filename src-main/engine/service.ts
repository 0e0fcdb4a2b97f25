// The engine service: the contract's handlers over model, dreams, neurons and the experiment store, plus the
// event hub they publish on. No electron, no http: `textdream serve`, the Electron utility process and the
// tests host the same object and only move its requests and events.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DREAM, dreamSettingsJsonSchema, METHOD_DEFINITIONS, METHODS, SETTING_FIELDS } from '../dream/config.js';
import { DECODERS } from '../dream/decode.js';
import { checkNeuron } from '../dream/objectives.js';
import { openSae, saeDir } from '../dream/run.js';
import type { LoadedModel } from '../model/load.js';
import type { Sae } from '../sae/load.js';
import { readSaeScanRef } from '../sae/scanRef.js';
import { saeLayer } from '../sweep/jobs.js';
import type { ApiHandlers, DreamSettingField } from '../api/contract.js';
import { defaultModelDir, projectRoot } from '../model/load.js';
import type { ExperimentHistory, SweepStore } from '../store/types.js';
import { EventHub } from './events.js';
import { explainHandler } from './explain.js';
import { compareRuns, exportRuns } from './history.js';
import { MnistHost } from './mnist.js';
import { ModelHost } from './models.js';
import { latentPage, neuronActivations, neuronPage, searchNeurons } from './neurons.js';
import { storeScanSource } from './scanSource.js';
import { RunHost } from './runs.js';
import { TaskRegistry } from './tasks.js';
import * as check from './validate.js';

export interface EngineOptions {
  /** The experiment store (store/open.ts): runs, scans for neuron pages and explanations, sweeps for the browser. */
  store: ExperimentHistory & Pick<SweepStore, 'sweptLayer'>;
  /** Settings (HF_*, TEXTDREAM_*); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** tfjs backend request; default TEXTDREAM_BACKEND, else auto. */
  backend?: string;
  /** Folder of the MNIST networks (default resources/mnist). */
  mnistDir?: string;
}

export interface Engine {
  handlers: ApiHandlers;
  events: EventHub;
  models: ModelHost;
  runs: RunHost;
  tasks: TaskRegistry;
  /** Stop every run (each records its end), cancel tasks, free the model. The store stays open (its owner closes it). */
  close(): Promise<void>;
}

function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function createEngine(opts: EngineOptions): Engine {
  const events = new EventHub();
  const tasks = new TaskRegistry(events);
  let runs: RunHost | null = null;
  const models = new ModelHost({ events, tasks, env: opts.env, backend: opts.backend, inUse: () => runs?.inUse() ?? false });
  runs = new RunHost({ events, store: opts.store, models });
  const scans = storeScanSource(opts.store);
  const mnist = new MnistHost(events, models, opts.mnistDir);
  const host = runs;
  const version = appVersion();
  const model = () => models.require().lm;

  const optionalSae = (v: unknown) => (v === undefined || v === null ? undefined : check.str(v, 'sae', 4096));
  /** An SAE named as targets name it (`L2.resid_pre` beside the model, a folder, a hub folder), loaded for one call. */
  async function withSae<T>(lm: LoadedModel, where: string, use: (sae: Sae) => Promise<T>): Promise<T> {
    const sae = await openSae({ model: lm.model, modelDir: lm.source.dir, env: opts.env }, where);
    try {
      return await use(sae);
    } finally {
      sae.dispose();
    }
  }

  const handlers: ApiHandlers = {
    'app.info': () => ({ version, backend: models.backendName, defaultModel: defaultModelDir() }),
    'models.state': () => models.state(),
    'models.load': (req) => models.load(check.str(check.object(req, 'request').spec, 'spec', 4096)),
    'neurons.page': async (req) => {
      const r = check.object(req, 'request');
      const { lm, ref } = models.require();
      const layer = check.int(r.layer, 'layer');
      const neuron = check.int(r.neuron, 'neuron');
      const examples = check.optionalInt(r.examples, 'examples', 0, 200) ?? 12;
      const sae = optionalSae(r.sae);
      if (sae === undefined) return neuronPage(lm.model, lm.tokenizer, ref, scans, layer, neuron, examples);
      return withSae(lm, sae, (s) => latentPage(lm.model, lm.tokenizer, ref, scans, s, sae, neuron, examples));
    },
    'neurons.search': (req) => {
      const r = check.object(req, 'request');
      const { model: m, tokenizer } = model();
      const layer = check.optionalInt(r.layer, 'layer') ?? null;
      return searchNeurons(m, tokenizer, check.str(r.text, 'text'), layer, check.optionalInt(r.top, 'top', 1, 1000) ?? 20);
    },
    'neurons.activations': async (req) => {
      const r = check.object(req, 'request');
      const { lm } = models.require();
      const [layer, neuron, text] = [check.int(r.layer, 'layer'), check.int(r.neuron, 'neuron'), check.str(r.text, 'text')];
      const sae = optionalSae(r.sae);
      if (sae === undefined) return neuronActivations(lm.model, lm.tokenizer, layer, neuron, text);
      return withSae(lm, sae, (s) => neuronActivations(lm.model, lm.tokenizer, layer, neuron, text, s));
    },
    'sweeps.layer': async (req) => {
      const r = check.object(req, 'request');
      const { lm, ref } = models.require();
      const search = r.search === undefined || r.search === null || r.search === '' ? undefined : check.str(r.search, 'search', 500);
      const sae = optionalSae(r.sae);
      if (sae !== undefined) {
        // An SAE's latents, swept by `textdream sweep --sae`: listed under its hook's layer, by its files' fingerprint
        // (cfg.json read and the files fingerprinted, no weights loaded: the table refreshes every few seconds).
        const unit = await readSaeScanRef(sae, await saeDir({ modelDir: lm.source.dir, env: opts.env }, sae));
        const layer = saeLayer(unit);
        const neurons = opts.store.sweptLayer(ref.fingerprint, layer, search, unit.fingerprint);
        const note = neurons.length || search ? null : `no sweep of the SAE ${sae} of this model in the store yet: run textdream sweep --sae ${sae} with the same --db`;
        return { layer, neurons, note };
      }
      const layer = check.int(r.layer, 'layer');
      checkNeuron(lm.model, layer, 0);
      const neurons = opts.store.sweptLayer(ref.fingerprint, layer, search);
      const note = neurons.length || search ? null : `no sweep of layer ${layer} of this model in the store yet: run textdream sweep --layers ${layer} with the same --db`;
      return { layer, neurons, note };
    },
    'dreams.defaults': () => ({
      settings: structuredClone(DEFAULT_DREAM),
      methods: [...METHODS],
      summaries: Object.fromEntries(METHOD_DEFINITIONS.map((m) => [m.name, m.definition.summary])),
      decoders: [...DECODERS],
      fields: structuredClone(SETTING_FIELDS) as DreamSettingField[],
      schema: dreamSettingsJsonSchema(),
    }),
    'dreams.start': async (req) => ({ runId: await host.start(check.dreamSettings(check.object(req, 'request').settings)) }),
    'dreams.stop': (req) => ({ stopped: host.stop(check.str(check.object(req, 'request').runId, 'runId', 200)) }),
    'dreams.active': () => host.active(),
    'dreams.list': (req) => {
      const r = req === undefined || req === null ? {} : check.object(req, 'request');
      const search = r.search === undefined || r.search === null || r.search === '' ? undefined : check.str(r.search, 'search', 500);
      return host.list({
        search,
        layer: check.optionalInt(r.layer, 'layer'),
        neuron: check.optionalInt(r.neuron, 'neuron'),
        limit: check.optionalInt(r.limit, 'limit', 1, 10_000),
      });
    },
    'dreams.get': (req) => host.get(check.str(check.object(req, 'request').runId, 'runId', 200)),
    'dreams.compare': (req) => {
      const r = check.object(req, 'request');
      return compareRuns(host.get(check.str(r.a, 'a', 200)), host.get(check.str(r.b, 'b', 200)));
    },
    'dreams.export': (req) => {
      const r = check.object(req, 'request');
      return exportRuns(check.runIds(r.runIds).map((id) => host.get(id)), check.exportFormat(r.format));
    },
    'tasks.cancel': (req) => ({ cancelled: tasks.cancel(check.str(check.object(req, 'request').task, 'task', 200)) }),
    'mnist.status': () => mnist.status(),
    'mnist.start': (req) => mnist.start(req),
    'mnist.stop': (req) => ({ stopped: mnist.stop(check.str(check.object(req, 'request').runId, 'runId', 200)) }),
    'mnist.get': (req) => {
      const r = req === undefined || req === null ? {} : check.object(req, 'request');
      return mnist.get(r.runId === undefined || r.runId === null ? undefined : check.str(r.runId, 'runId', 200));
    },
    'explain.status': () => ({
      available: true,
      note: "offline explainer and simulator; records from the store's scan of the layer, else held-out corpus windows",
    }),
    'explain.run': explainHandler({ models, tasks, history: opts.store }),
  };

  return {
    handlers,
    events,
    models,
    runs: host,
    tasks,
    async close() {
      tasks.cancelAll();
      await Promise.all([host.stopAll(), mnist.close()]);
      models.dispose();
    },
  };
}
