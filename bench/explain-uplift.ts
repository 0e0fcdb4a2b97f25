// The uplift from dreams, measured: a fixed set of neurons (seeded, the same number from every layer), each
// explained without and with dreams by the same explainer and simulator, each explanation scored on the same
// held-out records (5 top, never shown to the explainer, + 5 random). Offline explainer and simulator by default;
// --llm uses the OpenAI-compatible endpoint from the environment (TEXTDREAM_LLM_BASE_URL, TEXTDREAM_LLM_MODEL,
// OPENAI_API_KEY). Progress on stderr; one JSON object on stdout; the table for the README with --markdown.
//
//   npx tsx bench/explain-uplift.ts [--model <dir>] [--backend wasm] [--per-layer 6] [--seed 0]
//        [--dream-steps 24] [--corpus-tokens <n>] [--llm] [--db <file>] [--markdown <file>]
//
// Explanations are saved to the experiment store (--db, else TEXTDREAM_DB, else the per-user store; `:memory:`
// keeps nothing). Records come from the store's corpus scan of a layer when there is one, else from the held-out
// documents of the default model's split, computed here (one pass per layer).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import { fingerprint } from '../src-main/engine/models.js';
import { chooseNeurons, summarizeUplift, upliftBatch, upliftMarkdown, type UpliftRow } from '../src-main/explain/batch.js';
import { DREAM_RECORD_CONFIG } from '../src-main/explain/dreams.js';
import { llmExplainer, llmSimulator } from '../src-main/explain/llm.js';
import { offlineExplainer, offlineSimulator } from '../src-main/explain/offline.js';
import { ChatClient, resolveLLMSettings } from '../src-main/explain/openai.js';
import { DEFAULT_SPLIT } from '../src-main/explain/protocol.js';
import { computeNeuronRecords, defaultWindow, heldOutStream } from '../src-main/explain/records.js';
import { recordsFromStore, saveExplanation } from '../src-main/explain/store.js';
import type { NeuronRecords } from '../src-main/explain/types.js';
import { defaultModelDir, loadModel } from '../src-main/model/load.js';
import { openStore } from '../src-main/store/open.js';
import { emitJson, log, machineInfo } from './lib/timing.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    model: { type: 'string' },
    backend: { type: 'string', default: process.env.TEXTDREAM_BACKEND ?? 'auto' },
    'per-layer': { type: 'string', default: '6' },
    seed: { type: 'string', default: '0' },
    'dream-steps': { type: 'string', default: String(DREAM_RECORD_CONFIG.steps) },
    'corpus-tokens': { type: 'string' },
    llm: { type: 'boolean', default: false },
    db: { type: 'string' },
    markdown: { type: 'string' },
  },
});
const int = (name: string, s: string | undefined, min: number): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${s}"`);
  return n;
};
const perLayer = int('per-layer', values['per-layer'], 1)!;
const seed = int('seed', values.seed, 0)!;
const dreamSteps = int('dream-steps', values['dream-steps'], 1)!;
const corpusTokens = int('corpus-tokens', values['corpus-tokens'], 2);

const t0 = Date.now();
const backend = await initBackend(values.backend!);
const spec = values.model ?? process.env.TEXTDREAM_MODEL ?? defaultModelDir();
const lm = await loadModel(spec);
const fp = fingerprint(lm);
const c = lm.config;
log(`model ${spec} (${fp}): ${c.nLayer} layers × ${c.dMlp} neurons · backend ${backend.name}`);

let client: ChatClient | null = null;
if (values.llm) {
  const { settings, apiKey } = resolveLLMSettings({}, process.env);
  client = new ChatClient(settings, apiKey, { log });
}
const explainer = client ? llmExplainer(client) : offlineExplainer();
const simulator = client ? llmSimulator(client) : offlineSimulator();

const store = openStore(values.db);
store.registerModel({ spec, dir: lm.source.dir, fingerprint: fp, nLayer: c.nLayer, dModel: c.dModel, dMlp: c.dMlp });
const neurons = chooseNeurons(c.nLayer, c.dMlp, perLayer, seed);
log(`${neurons.length} neurons: ${neurons.map((n) => `L${n.layer}N${n.neuron}`).join(' ')}`);

const windowTokens = defaultWindow(c.nPositions);
const recordsNote = new Map<number, { describe: string; scanId: string | null }>();
const stream = await heldOutStream(lm.tokenizer, 'brown+sotu', log);
/** The store's scan of the layer when it has every neuron; else one pass over the held-out documents. */
async function recordSource(layer: number, ns: number[]): Promise<Map<number, NeuronRecords>> {
  const fromStore = corpusTokens === undefined ? ns.map((n) => recordsFromStore(store, fp, layer, n)) : [];
  if (fromStore.length && fromStore.every((x) => x !== null)) {
    recordsNote.set(layer, { describe: `scan ${fromStore[0]!.scanId} of ${fromStore[0]!.corpus}`, scanId: fromStore[0]!.scanId });
    return new Map(fromStore.map((x) => [x!.records.neuron, x!.records]));
  }
  recordsNote.set(layer, { describe: `held-out brown+sotu, windows of ${windowTokens} tokens${corpusTokens ? `, first ${corpusTokens} tokens` : ''}`, scanId: null });
  return computeNeuronRecords(lm.model, lm.tokenizer, stream, layer, ns, { windowTokens, maxTokens: corpusTokens, seed });
}

const ac = new AbortController();
process.once('SIGINT', () => {
  log('interrupted: finishing the current neuron, then writing what is done');
  ac.abort();
});

const rows: UpliftRow[] = [];
const batch = upliftBatch({ model: lm.model, tokenizer: lm.tokenizer }, stream, neurons, {
  explainer,
  simulator,
  dream: { steps: dreamSteps, seed },
  recordSource,
  signal: ac.signal,
  log,
  run: { log },
});
for await (const row of batch) {
  rows.push(row);
  const id = `L${row.layer}N${row.neuron}`;
  if (!row.without || !row.with) {
    log(`${rows.length}/${neurons.length} ${id}: skipped (${row.skipped})`);
    continue;
  }
  const note = recordsNote.get(row.layer)!;
  for (const run of [row.without, row.with]) {
    saveExplanation(store, run, { modelFingerprint: fp, scanId: note.scanId, records: note.describe, llm: client?.describe() ?? null, dreams: row.dreams });
  }
  log(`${rows.length}/${neurons.length} ${id}: ${row.without.score.all.toFixed(3)} → ${row.with.score.all.toFixed(3)} (Δ ${row.delta!.toFixed(3)}) · ${((Date.now() - t0) / 60000).toFixed(1)} min`);
}
store.close();
lm.model.dispose();

const summary = summarizeUplift(rows);
const markdown = upliftMarkdown(rows, summary);
if (values.markdown) writeFileSync(values.markdown, markdown);
log(`mean score ${summary.meanWithout.toFixed(3)} without dreams, ${summary.meanWith.toFixed(3)} with (Δ ${summary.meanDelta.toFixed(3)} ± ${summary.seDelta.toFixed(3)})`);
const compact = (r: UpliftRow['without']) =>
  r && { explanation: r.explanation, all: r.score.all, top: r.score.top, random: r.score.random, failed: r.score.failed, perRecord: r.score.records.map((x) => x.correlation), counts: r.counts };
emitJson({
  bench: 'explain-uplift',
  model: { spec, fingerprint: fp, nLayer: c.nLayer, dMlp: c.dMlp },
  backend: backend.name,
  machine: machineInfo(),
  config: { perLayer, seed, dream: { ...DREAM_RECORD_CONFIG, steps: dreamSteps, seed }, split: DEFAULT_SPLIT, windowTokens, corpusTokens: corpusTokens ?? null, explainer: explainer.name, simulator: simulator.name, llm: client?.describe() ?? null },
  records: Object.fromEntries(recordsNote),
  stopped: ac.signal.aborted ? 'interrupted' : 'completed',
  elapsedMin: (Date.now() - t0) / 60000,
  llmUsage: client?.usage ?? null,
  summary,
  rows: rows.map((r) => ({ layer: r.layer, neuron: r.neuron, maxActivation: r.maxActivation, skipped: r.skipped ?? null, delta: r.delta ?? null, without: compact(r.without), with: compact(r.with), dreams: r.dreams ?? null })),
  markdown,
});
