// `textdream explain`: explain a neuron in words and score the explanation (OpenAI's automated-interpretability
// protocol). Offline by default (token/bigram explainer and simulator, no language model); `--llm` uses an
// OpenAI-compatible endpoint. `--with-dreams` explains twice, without and with dreams as extra records, and
// reports the uplift. Records come from the store's corpus scan of the layer when there is one, else from the
// held-out corpus directly; explanations are saved to the store (--db). The API key is read from the environment
// only (OPENAI_API_KEY) and is never printed or stored.
import type { CorpusName } from '../../corpus/documents.js';
import { dreamRecords, DREAM_RECORD_CONFIG, type DreamRecords } from '../../explain/dreams.js';
import { llmExplainer, llmSimulator } from '../../explain/llm.js';
import { offlineExplainer, offlineSimulator } from '../../explain/offline.js';
import { ChatClient, LLMError, resolveLLMSettings } from '../../explain/openai.js';
import { explainNeuron, explainUplift, type ExplanationRun } from '../../explain/pipeline.js';
import { markRecord } from '../../explain/protocol.js';
import { computeNeuronRecords, defaultWindow, heldOutStream, windowStarts } from '../../explain/records.js';
import { recordsFromScan, recordsFromStore, saveExplanation } from '../../explain/store.js';
import type { NeuronRecords } from '../../explain/types.js';
import type { TargetSpec } from '../../dream/config.js';
import { ObjectiveError } from '../../dream/objectives.js';
import { openSae } from '../../dream/run.js';
import { ModelFileError } from '../../model/errors.js';
import { saeFingerprint } from '../../sae/scanRef.js';
import type { ScanSae } from '../../store/types.js';
import { fingerprint } from '../../engine/models.js';
import type { LoadedModel } from '../../model/load.js';
import { openStore } from '../../store/open.js';
import type { SqliteStore } from '../../store/sqlite.js';
import type { Explainer, Simulator } from '../../explain/types.js';
import { inRange, intOption, parseInteger, required } from '../args.js';
import { defineCommand, printJSON, UsageError, type CommandIO } from '../command.js';
import { openModel } from '../model.js';
import { fmt, formatDuration, interruptible, oneLine, parseChoice } from '../progress.js';

const CORPORA = ['brown+sotu', 'brown', 'sotu'] as const;

export function backends(values: { llm?: boolean; 'llm-base-url'?: string; 'llm-model'?: string; 'llm-timeout'?: string }, io: CommandIO) {
  if (!values.llm) {
    for (const flag of ['llm-base-url', 'llm-model', 'llm-timeout'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --llm`);
    return { explainer: offlineExplainer() as Explainer, simulator: offlineSimulator() as Simulator, client: null };
  }
  const timeout = parseInteger(values['llm-timeout'], '--llm-timeout');
  let resolved;
  try {
    resolved = resolveLLMSettings({ baseURL: values['llm-base-url'], model: values['llm-model'], timeoutMs: timeout === undefined ? undefined : inRange(timeout, '--llm-timeout', { min: 1, max: 3_600_000 }) }, io.env);
  } catch (e) {
    if (e instanceof LLMError) throw new UsageError(e.message);
    throw e;
  }
  const client = new ChatClient(resolved.settings, resolved.apiKey, { log: (l) => io.stderr(`${l}\n`) });
  return { explainer: llmExplainer(client), simulator: llmSimulator(client), client };
}

function runText(title: string, r: ExplanationRun): string[] {
  const out = [`${title}: ${r.explanation}`];
  out.push(`  score ${fmt(r.score.all, 3)} (top ${fmt(r.score.top, 3)}, random ${fmt(r.score.random, 3)})${r.score.failed ? ` · ${r.score.failed} record(s) not simulated` : ''}`);
  for (const rec of r.score.records) {
    const corr = rec.error ? `failed: ${rec.error}` : `r ${fmt(rec.correlation, 3).padStart(6)}`;
    out.push(`  ${`${rec.kind} ${rec.index}`.padEnd(9)} ${corr.length > 60 ? corr.slice(0, 60) + '…' : corr}  ${oneLine(markRecord(rec, r.maxActivation), 70)}`);
  }
  return out;
}

export default defineCommand({
  name: 'explain',
  summary: 'explain a neuron in words and score the explanation by simulation (offline, or --llm); --with-dreams measures the uplift',
  usage: '--layer <L> --neuron <N> | --sae <L2.resid_pre|dir> --latent <N>  [--with-dreams] [--llm [--llm-model <m>] [--llm-base-url <url>]] [--json]',
  options: {
    layer: { type: 'string', arg: '<L>', description: 'block of the neuron (mlp.hook_post), 0-based' },
    neuron: { type: 'string', arg: '<N>', description: 'the neuron in that layer' },
    sae: { type: 'string', arg: '<L2.resid_pre|dir|org/repo/folder>', description: 'explain an SAE latent instead (records from `textdream scan --sae`), with --latent' },
    latent: { type: 'string', arg: '<N>', description: 'the SAE latent' },
    'with-dreams': { type: 'boolean', description: 'explain without and with dreams (fluent, best per λ) as extra records; report the uplift' },
    llm: { type: 'boolean', description: 'use an OpenAI-compatible endpoint (TEXTDREAM_LLM_BASE_URL or OPENAI_BASE_URL, TEXTDREAM_LLM_MODEL, OPENAI_API_KEY)' },
    'llm-base-url': { type: 'string', arg: '<url>', description: 'endpoint base, e.g. http://127.0.0.1:8080/v1 (overrides the environment)' },
    'llm-model': { type: 'string', arg: '<name>', description: 'model name the endpoint serves (overrides TEXTDREAM_LLM_MODEL)' },
    'llm-timeout': { type: 'string', arg: '<ms>', description: 'time-out per request in ms (default TEXTDREAM_LLM_TIMEOUT_MS, else 60000)' },
    corpus: { type: 'string', arg: `<${CORPORA.join('|')}>`, description: 'held-out documents the records come from (default brown+sotu, the default model\'s split)' },
    'corpus-tokens': { type: 'string', arg: '<n>', description: 'use only the first n held-out tokens (default all)' },
    'dream-steps': { type: 'string', arg: '<n>', description: `steps of the fluent dream (default ${DREAM_RECORD_CONFIG.steps})` },
    seed: { type: 'string', arg: '<s>', description: 'seed of the random records and of the dream (default 0)' },
    db: { type: 'string', arg: '<file>', description: 'experiment store: scans to read records from, explanations saved (`:memory:` keeps nothing); default TEXTDREAM_DB, else the per-user data folder' },
  },
  async run(values, _positionals, io) {
    const latentUnit = values.sae !== undefined;
    if (!latentUnit && values.latent !== undefined) throw new UsageError('--latent needs --sae: name the SAE, e.g. --sae L2.resid_pre --latent 5');
    if (latentUnit && (values.layer !== undefined || values.neuron !== undefined)) throw new UsageError('--sae with --latent explains an SAE latent: drop --layer and --neuron');
    if (latentUnit && !values.sae!.trim()) throw new UsageError('--sae is empty: name an SAE, e.g. --sae L2.resid_pre --latent 5');
    if (latentUnit && (values.corpus !== undefined || values['corpus-tokens'] !== undefined)) throw new UsageError(`an SAE latent's records come from its scan: drop --corpus and --corpus-tokens (run textdream scan --sae ${values.sae} --corpus … first)`);
    const layer = latentUnit ? 0 : required(parseInteger(values.layer, '--layer'), '--layer', 'give the block of the neuron, e.g. --layer 1 --neuron 7');
    const neuron = latentUnit
      ? required(parseInteger(values.latent, '--latent'), '--latent', 'give the latent, e.g. --sae L2.resid_pre --latent 5')
      : required(parseInteger(values.neuron, '--neuron'), '--neuron', 'give the neuron, e.g. --layer 1 --neuron 7');
    const corpus: CorpusName = parseChoice(values.corpus, '--corpus', CORPORA) ?? 'brown+sotu';
    const corpusTokens = intOption(values['corpus-tokens'], '--corpus-tokens', 2, 1e9);
    const dreamSteps = intOption(values['dream-steps'], '--dream-steps', 1, 100_000);
    const seed = intOption(values.seed, '--seed', 0, 2 ** 31 - 1) ?? 0;
    if (dreamSteps !== undefined && !values['with-dreams']) throw new UsageError('--dream-steps needs --with-dreams');
    const { explainer, simulator, client } = backends(values, io);

    const { lm, spec } = await openModel(values, io);
    const interrupt = interruptible(io, 'the explanation');
    let store: SqliteStore | undefined;
    try {
      const c = lm.config;
      store = openStore(values.db, io.env);
      const fp = fingerprint(lm);
      store.registerModel({ spec, dir: lm.source.dir, fingerprint: fp, nLayer: c.nLayer, dModel: c.dModel, dMlp: c.dMlp });
      let unit: ExplainedUnit;
      if (latentUnit) unit = await latentRecords(lm, store, fp, values.sae!, neuron, io);
      else {
        inRange(layer, '--layer', { min: 0, max: c.nLayer - 1, describe: `this model has layers 0-${c.nLayer - 1}` });
        inRange(neuron, '--neuron', { min: 0, max: c.dMlp - 1, describe: `each layer has neurons 0-${c.dMlp - 1}` });
        const stored = values.corpus === undefined && corpusTokens === undefined ? recordsFromStore(store, fp, layer, neuron) : null;
        unit = {
          label: `L${layer}N${neuron}`,
          target: { kind: 'neuron', layer, neuron },
          sae: null,
          ...(stored
            ? { nr: stored.records, scanId: stored.scanId, describe: `scan ${stored.scanId} of ${stored.corpus}` }
            : { ...(await corpusRecords(lm, layer, neuron, corpus, corpusTokens, seed, io)), scanId: null }),
        };
      }
      const src = unit;
      const nr = src.nr;
      io.stderr(`records: ${src.describe}; max activation ${fmt(nr.maxActivation)}\n`);
      if (!(nr.maxActivation > 0)) io.stderr(`warning: ${unit.label} never fires on this corpus (max activation ${fmt(nr.maxActivation)}); its explanation will be empty\n`);
      const log = (l: string) => io.stderr(`${l}\n`);
      const opts = { signal: interrupt.signal, log };
      let runs: ExplanationRun[];
      let dreams: DreamRecords | null = null;
      let uplift: number | null = null;
      try {
        if (values['with-dreams']) {
          io.stderr(`dreaming ${unit.label} (fluent, ${dreamSteps ?? DREAM_RECORD_CONFIG.steps} steps)\n`);
          dreams = await dreamRecords({ model: lm.model, tokenizer: lm.tokenizer, modelDir: lm.source.dir, env: io.env }, unit.target, { seed, ...(dreamSteps ? { steps: dreamSteps } : {}) }, interrupt.signal);
          const u = await explainUplift(nr, explainer, simulator, dreams.records, opts);
          runs = [u.without, u.with];
          uplift = u.delta;
        } else {
          runs = [await explainNeuron(nr, explainer, simulator, [], opts)];
        }
      } catch (e) {
        if (e instanceof LLMError) throw new UsageError(e.message);
        throw e;
      }
      const llm = client ? { ...client.describe(), usage: client.usage } : null;
      const saved = runs.map(
        (r) => saveExplanation(store!, r, { modelFingerprint: fp, scanId: src.scanId, records: src.describe, llm: client?.describe() ?? null, dreams: dreams?.dreams, sae: unit.sae?.fingerprint ?? null }).id,
      );
      if (values.json) {
        printJSON(io, { model: spec, modelFingerprint: fp, layer: nr.layer, neuron: nr.neuron, ...(unit.sae ? { sae: unit.sae, target: unit.label } : {}), maxActivation: nr.maxActivation, records: src.describe, llm, runs, dreams, uplift, store: { path: store.path, explanations: saved } });
        return 0;
      }
      const out = [`explain ${unit.label} · model ${spec} · explainer ${explainer.name} · simulator ${simulator.name}`, ''];
      out.push(...runText(runs.length === 2 ? 'without dreams' : 'explanation', runs[0]));
      if (dreams && runs[1] && uplift !== null) {
        out.push('', `dreams (best per λ, ${formatDuration(dreams.elapsedMs)}):`);
        for (const d of dreams.dreams) out.push(`  ${d.label.padEnd(7)} mean ${fmt(d.mean, 3)} max ${fmt(d.max, 3)} CE ${fmt(d.ce, 2)}  ${oneLine(d.text, 70)}`);
        out.push('', ...runText('with dreams', runs[1]), '', `uplift from dreams: ${uplift >= 0 ? '+' : ''}${fmt(uplift, 3)} (an undefined score counts as 0)`);
      }
      if (llm) out.push('', `llm ${llm.model} at ${llm.baseURL}: ${llm.usage.requests} requests, tokens prompt ${llm.usage.prompt} + completion ${llm.usage.completion} = ${llm.usage.total}`);
      out.push('', `saved ${saved.length} explanation(s) to ${store.path}`);
      out.push(`scores: Pearson correlation of simulated and true activations over ${runs[0].counts.scoreTop} top + ${runs[0].counts.scoreRandom} random held-out records (none shown to the explainer); ⟦x⟧ marks tokens at ≥ 5/10`);
      io.stdout(out.join('\n') + '\n');
      return 0;
    } finally {
      store?.close();
      interrupt.release();
      lm.model.dispose();
    }
  },
});

/** Records computed from the held-out corpus (no scan in the store, or --corpus / --corpus-tokens given). */
async function corpusRecords(lm: LoadedModel, layer: number, neuron: number, corpus: CorpusName, maxTokens: number | undefined, seed: number, io: CommandIO) {
  const t0 = Date.now();
  const stream = await heldOutStream(lm.tokenizer, corpus, (l) => io.stderr(`${l}\n`));
  const windowTokens = defaultWindow(lm.config.nPositions);
  const windows = windowStarts(stream, windowTokens, maxTokens).length;
  if (!windows) throw new UsageError(`--corpus-tokens ${maxTokens} is too small: a record needs ${windowTokens} tokens`);
  const nr = computeNeuronRecords(lm.model, lm.tokenizer, stream, layer, [neuron], { windowTokens, maxTokens, seed }).get(neuron)!;
  return { nr, describe: `${windows} held-out windows of ${windowTokens} tokens (${corpus}), computed in ${formatDuration(Date.now() - t0)}` };
}

/** What is explained: its label, its target (for dreams), its records and where they came from; the SAE of a latent. */
interface ExplainedUnit {
  label: string;
  target: TargetSpec;
  sae: ScanSae | null;
  nr: NeuronRecords;
  scanId: string | null;
  describe: string;
}

/** An SAE latent's records, from the newest scan of that SAE (`textdream scan --sae`): there is no other source. */
async function latentRecords(lm: LoadedModel, store: SqliteStore, fp: string, where: string, latent: number, io: CommandIO): Promise<ExplainedUnit> {
  let saeFp: string;
  try {
    const sae = await openSae({ model: lm.model, modelDir: lm.source.dir, env: io.env }, where);
    try {
      inRange(latent, '--latent', { min: 0, max: sae.config.dSae - 1, describe: `the SAE ${where} has latents 0-${sae.config.dSae - 1}` });
      saeFp = saeFingerprint(sae.dir);
    } finally {
      sae.dispose();
    }
  } catch (e) {
    if (e instanceof ObjectiveError || e instanceof ModelFileError) throw new UsageError(`--sae ${where}: ${e.message}`);
    throw e;
  }
  const scan = store.saeScanFor(fp, saeFp);
  if (!scan?.config.sae) throw new UsageError(`no scan of the SAE ${where} in ${store.path}: run \`textdream scan --sae ${where} --corpus brown\` with the same --model and --db first`);
  const stored = recordsFromScan(store, scan, scan.config.layers[0], latent);
  if (!stored) throw new UsageError(`scan ${scan.id} keeps too few windows to explain sae:${where}:${latent} from (2 top and 1 random needed): scan again with --top and --random of at least 2 and 1`);
  return {
    label: `sae:${where}:${latent}`,
    target: { kind: 'sae', sae: where, latent },
    sae: scan.config.sae,
    nr: stored.records,
    scanId: stored.scanId,
    describe: `scan ${stored.scanId} of ${stored.corpus}`,
  };
}
