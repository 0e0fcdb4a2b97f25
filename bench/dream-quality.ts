// bench/dream-quality: do dreams beat the corpus? For neurons drawn with a fixed seed (stratified over layers),
// every method gets the same compute (single-sequence forward-pass equivalents, hard evaluations included), and
// each best dream is judged by its HARD activation against the neuron's maximum over held-out corpus text, and
// by its cross-entropy against the corpus median. Prints one JSON object on stdout; progress on stderr.
//   npx tsx bench/dream-quality.ts [--model dir] [--neurons 24] [--budget 3000] [--methods fluent,embed,projected,subspace,latent-k32] [--seed 7] [--fluent-init samples]
// `latent-k<k>` runs --method latent with the model folder's autoencoders/k<k> (its decoder's own compute is not
// counted: the budget counts the language model's forward passes only); `latent-k<k>-fused` judges the latent's text
// decoded fused with the model (--latent-decode fused; those decoding passes are not counted either).
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import { rng, shuffle } from '../src-main/corpus/rng.js';
import { crossEntropies } from '../src-main/dream/hard.js';
import { dreamToEnd, runDream } from '../src-main/dream/run.js';
import type { Method } from '../src-main/dream/config.js';
import { hookName } from '../src-main/model/hooks.js';
import { defaultModelDir, loadModel } from '../src-main/model/load.js';
import { loadLMCorpus } from '../src-main/train/lmCorpus.js';
import { evalWindows } from '../src-main/train/lmData.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    neurons: { type: 'string', default: '24' },
    budget: { type: 'string', default: '3000' },
    methods: { type: 'string', default: 'fluent,embed,projected,subspace' },
    seed: { type: 'string', default: '7' },
    'corpus-tokens': { type: 'string', default: '40000' },
    'seq-len': { type: 'string', default: '10' },
    // How fluent starts: random tokens, or the model's own samples (--init samples).
    'fluent-init': { type: 'string', default: 'random' },
  },
});
const log = (s: string) => process.stderr.write(s + '\n');
const backend = await initBackend(process.env.TEXTDREAM_BACKEND ?? 'auto');
const spec = values.model ?? defaultModelDir();
const lm = await loadModel(spec);
const { model, tokenizer } = lm;
const c = model.config;
const seqLen = Number(values['seq-len']);
const budget = Number(values.budget);

// 1. Corpus yardsticks on held-out text: each neuron's max activation, and the median cross-entropy of
//    held-out sentences of dream-like length, measured exactly as dreams are (BOS prefix, hard evaluation).
const corpus = await loadLMCorpus('brown+sotu', '.cache/train-lm/tokens', log);
const hooks = Array.from({ length: c.nLayer }, (_, l) => hookName(l, 'mlp.hook_post'));
const corpusMax = Array.from({ length: c.nLayer }, () => new Float32Array(c.dMlp).fill(-Infinity));
let scanned = 0;
const held = corpus.heldOut.tokens.subarray(0, Number(values['corpus-tokens']));
for (const { x, rows } of evalWindows(held, Math.min(64, c.nPositions), 8)) {
  const T = x.length / rows;
  const maxes = tf.tidy(() => {
    const r = model.run({ ids: tf.tensor2d(x, [rows, T], 'int32') }, { hooks, skipLogits: true });
    return hooks.map((h) => tf.max(tf.reshape(r.cache.get(h)!, [-1, c.dMlp]), 0).dataSync() as Float32Array);
  });
  maxes.forEach((m, l) => m.forEach((v, i) => (corpusMax[l][i] = Math.max(corpusMax[l][i], v))));
  scanned += x.length;
}
log(`corpus maxima over ${scanned} held-out tokens`);
const sentences = corpus.heldOut.docs
  .flatMap((d) => tokenizer.decode(corpus.heldOut.tokens.subarray(d.start, d.end)).split(/(?<=[.!?])\s+/))
  .map((s) => tokenizer.encode(' ' + s.trim()))
  .filter((ids) => ids.length >= seqLen - 3 && ids.length <= seqLen + 3);
const sample = shuffle(sentences, rng(11)).slice(0, 200);
const sentCE = (await crossEntropies(model, tokenizer, sample, 16)).sort((a, b) => a - b);
const corpusMedianCE = sentCE[Math.floor(sentCE.length / 2)];
log(`corpus median CE ${corpusMedianCE.toFixed(3)} nats over ${sentCE.length} held-out sentences of ${seqLen - 3}-${seqLen + 3} tokens`);

// 2. Neurons: stratified over layers, drawn among neurons alive on held-out text.
const nNeurons = Number(values.neurons);
const rand = rng(Number(values.seed));
const neurons: { layer: number; neuron: number }[] = [];
for (let l = 0; l < c.nLayer; l++) {
  const alive = [...corpusMax[l].keys()].filter((i) => corpusMax[l][i] > 0);
  const per = Math.floor(nNeurons / c.nLayer) + (l < nNeurons % c.nLayer ? 1 : 0);
  for (const n of shuffle(alive, rand).slice(0, per)) neurons.push({ layer: l, neuron: n });
}

// 3. Equal compute per method: steps chosen so that method steps + hard evaluations fit the budget.
const methods = values.methods!.split(',');
/** `latent-k32` → method latent with k 32 (`latent-k32-fused`: its text decoded fused with the model); anything else is a method name. */
const methodOf = (name: string): { method: Method; k?: number; latentDecode?: 'argmax' | 'fused' } => {
  const m = /^latent-k(\d+)(-fused)?$/.exec(name);
  return m ? { method: 'latent', k: Number(m[1]), latentDecode: m[2] ? 'fused' : 'argmax' } : { method: name as Method };
};
const P = 6;
const candidates = 16;
function plan(name: string): { steps: number; every: number } {
  const { method } = methodOf(name);
  // fluent's step cost varies (duplicate candidates are evaluated once): it runs until one more step at its
  // largest cost would pass the budget (runUntilBudget), so it spends what the others spend.
  if (method === 'fluent') return { steps: 100_000, every: 1 };
  const every = 5;
  const perStep = 3 * P + P / every;
  return { steps: Math.max(1, Math.floor((budget - P) / perStep)), every };
}

const distinct2 = (texts: string[]) => {
  const grams = new Set<string>();
  let total = 0;
  for (const t of texts) {
    const w = t.trim().split(/\s+/);
    for (let i = 0; i + 1 < w.length; i++) {
      grams.add(w[i] + ' ' + w[i + 1]);
      total += 1;
    }
  }
  return total ? grams.size / total : 0;
};

const rows: Record<string, unknown>[] = [];
for (const { layer, neuron } of neurons) {
  const max = corpusMax[layer][neuron];
  for (const name of methods) {
    const { method, k, latentDecode } = methodOf(name);
    const { steps, every } = plan(name);
    let lastSoft = Number.NaN;
    let lastStep = 0;
    const t0 = Date.now();
    const stop = new AbortController();
    const fluentStepMax = 3 * P + P * candidates; // gradient + every candidate distinct
    const res = await dreamToEnd(
      runDream(
        { model, tokenizer, modelDir: lm.source.dir },
        { target: { kind: 'neuron', layer, neuron }, method, ...(k ? { k, latentDecode } : {}), ...(method === 'fluent' ? { init: values['fluent-init'] as 'random' | 'samples' } : { init: 'random' as const }), steps, every, seqLen, batch: P, candidates, reduce: 'max', lr: 0.05, seed: 1 },
        stop.signal,
      ),
      (r) => {
        lastSoft = r.soft;
        lastStep = r.step;
        if (method === 'fluent' && r.forwardEquivalents + fluentStepMax > budget) stop.abort();
      },
    );
    const dreams = res.bestPerLabel.length ? res.bestPerLabel : [res.best!]; // the best dream of each row (each λ for fluent)
    const fluentEnough = dreams.filter((d) => d.ce <= corpusMedianCE + 1);
    const bestFluent = fluentEnough.reduce<(typeof dreams)[number] | null>((b, d) => (!b || d.value > b.value ? d : b), null);
    const row = {
      layer,
      neuron,
      method: name,
      steps: lastStep,
      forwardEquivalents: res.forwardEquivalents,
      corpusMax: max,
      bestHard: res.best!.value,
      ratio: res.best!.value / max,
      bestCE: res.best!.ce,
      ceVsMedian: res.best!.ce - corpusMedianCE,
      bestFluentRatio: bestFluent ? bestFluent.value / max : null,
      bestFluentText: bestFluent?.text ?? null,
      lastSoft,
      text: res.best!.text,
      distinct2: distinct2(method === 'fluent' ? res.bestPerLabel.map((d) => d.text) : [res.best!.text]),
      seconds: (Date.now() - t0) / 1000,
    };
    rows.push(row);
    log(`L${layer}N${neuron} ${name}: hard ${row.bestHard.toFixed(2)} / corpus ${max.toFixed(2)} = ${row.ratio.toFixed(2)}, CE ${row.bestCE.toFixed(2)} (median ${corpusMedianCE.toFixed(2)}), soft ${lastSoft.toFixed(2)}, ${row.seconds.toFixed(0)} s  ${JSON.stringify(row.text)}`);
  }
}

const summary = Object.fromEntries(
  methods.map((m) => {
    const r = rows.filter((x) => x.method === m) as { ratio: number; ceVsMedian: number; bestFluentRatio: number | null; lastSoft: number; bestHard: number; distinct2: number }[];
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
    return [
      m,
      {
        neurons: r.length,
        medianRatio: med(r.map((x) => x.ratio)),
        fractionAtLeastCorpusMax: r.filter((x) => x.ratio >= 1).length / r.length,
        fractionAtLeastCorpusMaxWithin1NatOfMedianCE: r.filter((x) => (x.bestFluentRatio ?? 0) >= 1).length / r.length,
        medianCEvsCorpusMedian: med(r.map((x) => x.ceVsMedian)),
        medianSoft: med(r.map((x) => x.lastSoft)),
        medianHard: med(r.map((x) => x.bestHard)),
        meanDistinct2: r.reduce((a, x) => a + x.distinct2, 0) / r.length,
      },
    ];
  }),
);
console.log(JSON.stringify({ bench: 'dream-quality', model: spec, backend: backend.name, budgetForwardEquivalents: budget, fluentInit: values['fluent-init'], seqLen, reduce: 'max', corpusMedianCE, corpusTokens: scanned, neurons: neurons.length, summary, targets: { fluentFractionAtLeastCorpusMaxWithin1Nat: 0.6 }, rows }, null, 1));
lm.model.dispose();
