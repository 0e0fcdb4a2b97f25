// bench/probe-insert-delete: would one inserted or deleted word lift a real sentence past a neuron's held-out maximum
// where swaps do not? Not a search: for each neuron of a dream-quality result, its top 24 seed-pool windows (10 tokens,
// as `seeded` starts from) get every single insertion of a fixed list of plain words (the window's last token dropped)
// and every deletion (the document's next token pulled in) before the last token. A candidate counts as `seeded`'s
// would: ≥ the neuron's held-out max, above its seed, readable by the rule (without the seed comparison, which a
// different word count cannot meet as written). Each neuron's pick: the lowest mean cross-entropy under the dreamed
// model relative to its seed's. Prints JSON.
//   TEXTDREAM_BACKEND=tensorflow npx tsx bench/probe-insert-delete.ts <dream-quality result.json> > out.json
import { readFileSync } from 'node:fs';
import { initBackend } from '../src-main/backend.js';
import { loadCorpus } from '../src-main/corpus/documents.js';
import { measureIds } from '../src-main/dream/hard.js';
import { neuronGroup, seedWindows, topWindowsPerUnit } from '../src-main/dream/seeded.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import type { HardEval } from '../src-main/dream/records.js';
import { defaultModelDir, loadModel } from '../src-main/model/load.js';
import { assessReadability, keepsSentenceForm } from '../src-main/readability/assess.js';
import { INSERTABLE_WORDS } from '../src-main/readability/insertions.js';
import { loadShippedJudge } from '../src-main/readability/shipped.js';
import { readabilitySplits } from '../src-main/readability/splits.js';

const resultFile = process.argv[2];
if (!resultFile) throw new Error('usage: probe-insert-delete.ts <dream-quality result.json>');
const backend = await initBackend(process.env.TEXTDREAM_BACKEND ?? 'auto');
const { model, tokenizer: tok } = await loadModel(defaultModelDir());
const { judge } = await loadShippedJudge(tok);
const rows = (JSON.parse(readFileSync(resultFile, 'utf8')).rows as { layer: number; neuron: number; method: string; heldOutMax: number; shown: unknown }[]).filter((r) => r.method === 'seeded');
const pool = readabilitySplits(await loadCorpus('brown+sotu')).seedPool.map((d) => ({ id: d.id, ids: tok.encode(d.text) }));
// 11-token windows: the first 10 are the seed, the 11th what a deletion pulls in.
const w11 = seedWindows(pool, tok, 11, 20000);
const top = await topWindowsPerUnit(model, w11.map((w) => ({ ids: w.ids.slice(0, 10), docId: w.docId })), [...new Set(rows.map((r) => r.layer))].map(neuronGroup), 24);
// The words seeded may insert, and the two proper adjectives the probe also tried (their picks read as strained).
const WORDS = [...INSERTABLE_WORDS, 'American', 'public'].map((w) => ` ${w}`);
const wordIds = WORDS.map((w) => tok.encode(w)).filter((ids) => ids.length === 1).map((ids) => ids[0]);
const measure = async (target: ReturnType<typeof neuronTarget>, seqs: number[][]): Promise<HardEval[]> => {
  const out: HardEval[] = [];
  for (let i = 0; i < seqs.length; i += 256) out.push(...(await measureIds(model, tok, target, seqs.slice(i, i + 256), 'max')));
  return out;
};
const neurons = [];
for (const r of rows) {
  const target = neuronTarget(r.layer, r.neuron);
  const seeds = top.get(`${r.layer}:${r.neuron}`)!.map((t) => w11[t.index].ids);
  const seedEvals = await measure(target, seeds.map((s) => s.slice(0, 10)));
  const cands: { ids: number[]; seed: number; edit: string }[] = [];
  seeds.forEach((ids, si) => {
    for (let p = 1; p < 10; p++) cands.push({ ids: [...ids.slice(0, p), ...ids.slice(p + 1, 11)], seed: si, edit: `delete "${tok.decode([ids[p]])}"` });
    for (let p = 1; p < 10; p++) for (const w of wordIds) cands.push({ ids: [...ids.slice(0, p), w, ...ids.slice(p, 9)], seed: si, edit: `insert "${tok.decode([w])}"` });
  });
  const evals = await measure(target, cands.map((c) => c.ids));
  const counted = evals
    .map((e, i) => ({ e, c: cands[i], s: seedEvals[cands[i].seed] }))
    .filter(({ e, s }) => e.value >= r.heldOutMax && e.value > s.value && keepsSentenceForm(e.text))
    .map((x) => ({ ...x, readability: assessReadability(judge, x.e.text) }))
    .filter(({ readability }) => readability.readable)
    .map(({ e, c, s, readability }) => ({ text: e.text, ratio: e.value / r.heldOutMax, dCE: e.ce - s.ce, percentile: readability.percentile, edit: c.edit, seedText: s.text, seedRatio: s.value / r.heldOutMax }))
    .sort((a, b) => a.dCE - b.dCE);
  const label = `L${r.layer}N${r.neuron}`;
  process.stderr.write(`${label}: top seed ${(seedEvals[0].value / r.heldOutMax).toFixed(2)}× max, ${counted.length} counted\n`);
  for (const c of counted.slice(0, 3)) process.stderr.write(`   ${c.ratio.toFixed(2)} ΔCE ${c.dCE.toFixed(2)} ${c.edit} ${JSON.stringify(c.text)} <- ${JSON.stringify(c.seedText)}\n`);
  neurons.push({ neuron: label, heldOutMax: r.heldOutMax, topSeedRatio: seedEvals[0].value / r.heldOutMax, counted: counted.length, pick: counted[0] ?? null, next: counted.slice(1, 5) });
}
console.log(JSON.stringify({ bench: 'probe-insert-delete', from: resultFile, backend: backend.name, words: WORDS, seedsPerNeuron: 24, neurons }, null, 1));
