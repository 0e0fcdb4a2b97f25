// bench/blind-read: read dreams blind beside real text. `prepare` gathers each neuron's readable best dream from
// dream-quality results (one group per file, named with `name=file`) and the human windows of an earlier blind read,
// shuffles them with a fixed seed and writes the texts a reader sees (ids and texts only) and, apart, the key.
// `score` joins the reader's ratings (a JSON object id → 1-5) with the key and prints per group: the count, the mean
// rating, the share rated ≥ 4, and the same among the dreams the bench counted (readable and ≥ the held-out max).
//   npx tsx bench/blind-read.ts prepare --group pos=bench/results/a.json --group beam=bench/results/c.json@beam --humans bench/results/readability-blind-read.budget-1500.json --out dir
//   npx tsx bench/blind-read.ts score --dir dir --ratings ratings.json --what "…" > bench/results/readability-blind-read.x.json
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rng, shuffle } from '../src-main/corpus/rng.js';

interface Row {
  layer?: number;
  neuron?: number;
  /** Rows of a bench over SAE latents (`--sae`) name the latent instead. */
  latent?: number;
  method: string;
  heldOutMax: number;
  readableBest: { value: number; text: string; percentile: number; origin?: { seedText: string } } | null;
  readableRatio: number | null;
  shown?: Row['readableBest'];
}
interface KeyEntry {
  id: string;
  group: string;
  text: string;
  neuron?: string;
  seedText?: string;
  countedByBench: boolean | null;
  syntaxPercentile?: number;
}

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    group: { type: 'string', multiple: true, default: [] },
    humans: { type: 'string' },
    seed: { type: 'string', default: '77' },
    out: { type: 'string' },
    dir: { type: 'string' },
    ratings: { type: 'string' },
    what: { type: 'string', default: '' },
    // Only rows of this method (a result file may hold several).
    method: { type: 'string' },
    // Which dream of a row a reader sees: its most activating readable one, or `shown` (the one the CLI would show:
    // of those at or above the held-out max, the fewest edits, then the most readable; else the most activating).
    pick: { type: 'string', default: 'readable-best' },
  },
});
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

if (command === 'prepare') {
  if (!values.out) throw new Error('prepare needs --out <dir>');
  const key: KeyEntry[] = [];
  const sources: Record<string, string> = {};
  for (const g of values.group!) {
    // name=file, or name=file@method for one method's rows of a file that holds several.
    const [name, spec] = g.split('=');
    const [file, only = values.method] = (spec ?? '').split('@');
    if (!name || !file) throw new Error(`--group must be name=file or name=file@method, got "${g}"`);
    sources[name] = spec;
    for (const r of readJson(file).rows as Row[]) {
      if (!r.readableBest || (only && r.method !== only)) continue;
      const d = (values.pick === 'shown' && r.shown) || r.readableBest;
      key.push({ id: '', group: name, text: d.text, neuron: r.latent !== undefined ? `latent ${r.latent}` : `L${r.layer}N${r.neuron}`, seedText: d.origin?.seedText, countedByBench: (r.readableRatio ?? 0) >= 1, syntaxPercentile: d.percentile });
    }
  }
  if (values.humans) {
    sources.human = values.humans;
    for (const t of readJson(values.humans).texts) if ((t.kind ?? t.group) === 'human') key.push({ id: '', group: 'human', text: t.text, countedByBench: null });
  }
  const shuffled = shuffle(key, rng(Number(values.seed)));
  shuffled.forEach((k, i) => (k.id = `t${i + 1}`));
  writeFileSync(join(values.out, 'texts.json'), JSON.stringify(shuffled.map((k) => ({ id: k.id, text: k.text })), null, 1) + '\n');
  writeFileSync(join(values.out, 'key.json'), JSON.stringify({ seed: Number(values.seed), sources, key: shuffled }, null, 1) + '\n');
  process.stderr.write(`${shuffled.length} texts → ${join(values.out, 'texts.json')} (key apart: key.json)\n`);
} else if (command === 'score') {
  if (!values.dir || !values.ratings) throw new Error('score needs --dir <dir> --ratings <file>');
  const { seed, sources, key } = readJson(join(values.dir, 'key.json')) as { seed: number; sources: Record<string, string>; key: KeyEntry[] };
  const ratings = readJson(values.ratings) as Record<string, number>;
  const texts = key.map((k) => {
    const rating = ratings[k.id];
    if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new Error(`${values.ratings}: ${k.id} has no rating 1-5 (got ${rating})`);
    return { ...k, rating };
  });
  const summarise = (list: typeof texts) => ({
    count: list.length,
    meanRating: list.length ? +(list.reduce((a, t) => a + t.rating, 0) / list.length).toFixed(2) : null,
    ratedAtLeast4: list.filter((t) => t.rating >= 4).length,
  });
  const groups = [...new Set(texts.map((t) => t.group))];
  const summary = Object.fromEntries(groups.map((g) => {
    const inGroup = texts.filter((t) => t.group === g);
    return [g, { ...summarise(inGroup), counted: summarise(inGroup.filter((t) => t.countedByBench)) }];
  }));
  process.stdout.write(JSON.stringify({ what: values.what, sources, shuffleSeed: seed, summary, texts }, null, 1) + '\n');
} else {
  throw new Error('usage: blind-read.ts prepare|score (see the header)');
}
