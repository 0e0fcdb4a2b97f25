// bench/dream-samples: ten dreams of one method beside the same neurons' top held-out corpus windows, the neurons
// chosen by a fixed seed from a dream-quality result (never picked by hand). Markdown on stdout.
//   npx tsx bench/dream-samples.ts <dream-quality result.json> <method> [--seed 2026] [--count 10]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/backend.js';
import { rng, shuffle } from '../src-main/corpus/rng.js';
import { neuronTarget } from '../src-main/dream/objectives.js';
import { heldOutMax } from '../src-main/dream/yardstick.js';
import { loadModel } from '../src-main/model/load.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string', default: '2026' }, count: { type: 'string', default: '10' } } });
const [file, method] = positionals;
if (!file || !method) throw new Error('usage: bench/dream-samples.ts <result.json> <method> [--seed s] [--count n]');
const result = JSON.parse(readFileSync(file, 'utf8')) as { model: string; heldOutTokens: number; rows: Record<string, any>[] };
await initBackend(process.env.TEXTDREAM_BACKEND ?? 'auto');
const lm = await loadModel(result.model);
const rows = shuffle(result.rows.filter((r) => r.method === method), rng(Number(values.seed))).slice(0, Number(values.count));
console.log(`| neuron | ${method} dream (readable best, else best) | value | syntax pct | seed it was edited from (value) | top held-out window (strongest token ⟦marked⟧) | value |`);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const top = await heldOutMax(lm.model, lm.tokenizer, neuronTarget(r.layer, r.neuron), result.heldOutTokens);
  const d = r.readableBest ?? { text: r.bestText, value: r.bestHard, percentile: r.bestPercentile };
  const cell = (t: string) => JSON.stringify(t).replace(/\|/g, '\\|');
  const seed = d.origin ? `${cell(d.origin.seedText)} (${d.origin.seedValue.toFixed(2)})` : '—';
  console.log(`| L${r.layer}N${r.neuron} | ${cell(d.text)}${r.readableBest ? '' : ' (not readable)'} | ${d.value.toFixed(2)} | ${d.percentile?.toFixed(0) ?? '—'} | ${seed} | ${cell(top.snippet)} | ${top.max.toFixed(2)} |`);
}
lm.model.dispose();
