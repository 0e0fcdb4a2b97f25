// bench/blind-read: read dreams blind beside real text. `prepare` gathers each neuron's readable best dream from
// dream-quality results (one group per file, named with `name=file`) and the human windows of an earlier blind read,
// shuffles them with a fixed seed and writes the texts a reader sees (ids and texts only) and, apart, the key.
// `score` joins the reader's ratings (a JSON object id → 1-5) with the key and prints per group: the count, the mean
// rating, the share rated ≥ 4, and the same among the dreams the bench counted (readable and ≥ the held-out max);
// with `--pick shown-all`, those of the first shown dream, and the counted neurons with any shown dream rated ≥ 4.
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
  /** The next seeds' dreams the CLI shows beside `shown` (dream-quality.ts rows since readableChoices). */
  shownOthers?: NonNullable<Row['readableBest']>[];
}
interface KeyEntry {
  id: string;
  group: string;
  text: string;
  neuron?: string;
  seedText?: string;
  countedByBench: boolean | null;
  syntaxPercentile?: number;
  /** With --pick shown-all: 1 for the shown dream, 2… for the next seeds' (shownOthers). */
  rank?: number;
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
    // of those at or above the held-out max, the fewest edits, then the most readable; else the most activating),
    // or `shown-all` (that one and the next seeds' dreams the CLI shows beside it, `shownOthers`).
    pick: { type: 'string', default: 'readable-best' },
    // Each distinct text once, however many groups hold it.
    unique: { type: 'boolean', default: false },
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
      const all = values.pick === 'shown-all';
      if (all && r.shown && !r.shownOthers) throw new Error(`${file}: --pick shown-all needs rows with shownOthers (dream-quality.ts since readableChoices)`);
      const d = ((values.pick === 'shown' || all) && r.shown) || r.readableBest;
      const neuron = r.latent !== undefined ? `latent ${r.latent}` : `L${r.layer}N${r.neuron}`;
      const shownList = all && r.shown ? [d, ...r.shownOthers!] : [d];
      shownList.forEach((x, k) => key.push({ id: '', group: name, text: x.text, neuron, seedText: x.origin?.seedText, countedByBench: (r.readableRatio ?? 0) >= 1, syntaxPercentile: x.percentile, ...(all ? { rank: k + 1 } : {}) }));
    }
  }
  if (values.humans) {
    sources.human = values.humans;
    for (const t of readJson(values.humans).texts) if ((t.kind ?? t.group) === 'human') key.push({ id: '', group: 'human', text: t.text, countedByBench: null });
  }
  const shuffled = shuffle(key, rng(Number(values.seed)));
  // With --unique, a text that several groups (or ranks) share is read once: its entries share one id.
  const idOf = new Map<string, string>();
  const read: { id: string; text: string }[] = [];
  for (const k of shuffled) {
    const known = values.unique ? idOf.get(k.text) : undefined;
    if (known) k.id = known;
    else {
      k.id = `t${read.length + 1}`;
      idOf.set(k.text, k.id);
      read.push({ id: k.id, text: k.text });
    }
  }
  writeFileSync(join(values.out, 'texts.json'), JSON.stringify(read, null, 1) + '\n');
  writeFileSync(join(values.out, 'key.json'), JSON.stringify({ seed: Number(values.seed), sources, key: shuffled }, null, 1) + '\n');
  process.stderr.write(`${read.length} texts → ${join(values.out, 'texts.json')} (key apart: key.json)\n`);
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
    const all = texts.filter((t) => t.group === g);
    // The figures of one shown dream per neuron (rank 1), as before there were more; then, with the next seeds'
    // dreams, the neurons the bench counted of which the reader rated any shown dream ≥ 4.
    const inGroup = all.filter((t) => (t.rank ?? 1) === 1);
    const ranked = all.some((t) => t.rank !== undefined);
    const countedNeurons = [...new Set(all.filter((t) => t.countedByBench).map((t) => t.neuron))];
    const anyShown = ranked ? { anyShown: { countedNeurons: countedNeurons.length, anyRatedAtLeast4: countedNeurons.filter((n) => all.some((t) => t.neuron === n && t.rating >= 4)).length, texts: all.length } } : {};
    return [g, { ...summarise(inGroup), counted: summarise(inGroup.filter((t) => t.countedByBench)), ...anyShown }];
  }));
  process.stdout.write(JSON.stringify({ what: values.what, sources, shuffleSeed: seed, summary, texts }, null, 1) + '\n');
} else {
  throw new Error('usage: blind-read.ts prepare|score (see the header)');
}
