// `textdream neuron`: one neuron's page from the experiment store: corpus statistics and quantiles, top windows
// with the strongest token marked, random windows, dreams run for it and its explanations. Reads the store only
// (the model's files are fingerprinted, not loaded).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultModelDir } from '../../model/load.js';
import { resolveStorePath } from '../../store/location.js';
import { fingerprintFiles, weightFilesIn } from '../../store/persist.js';
import type { NeuronExample, NeuronPageData } from '../../store/types.js';
import { inRange, parseInteger, required } from '../args.js';
import { defineCommand, printJSON, UsageError, type CommandIO } from '../command.js';
import { fmt, oneLine } from '../progress.js';
import { DB_OPTION, openCliStore } from '../store.js';
import { settingsFromEnv } from '../../environment.js';

/** The store's key for --model: a local folder's fingerprint, else the spec as given (a hub id). */
export function modelKey(flag: string | undefined, io: CommandIO): { spec: string; key: string } {
  if (flag === '') throw new UsageError('--model is empty: give a model folder or a Hugging Face id');
  const env = settingsFromEnv(io.env);
  const spec = flag || env.model || defaultModelDir();
  const dir = resolve(spec.replace(/^~(?=\/)/, env.home ?? '~'));
  if (existsSync(join(dir, 'config.json'))) {
    const files = weightFilesIn(dir);
    if (files.length) return { spec, key: fingerprintFiles(dir, files) };
  }
  return { spec, key: spec };
}

/** A window's tokens with the strongest one bracketed, on one line (newlines shown as ⏎). */
export function markedText(e: NeuronExample): string {
  return e.tokens.map((t, i) => (i === e.maxAt ? `⟦${t}⟧` : t)).join('').replace(/\r?\n/g, '⏎');
}

function render(p: NeuronPageData, db: string, examples: number): string {
  const out: string[] = [];
  const model = p.model ? `${p.model.spec} (${p.model.fingerprint.slice(0, 12)})` : 'unknown model';
  out.push(`L${p.layer}N${p.neuron} · ${p.hook} · model ${model} · store ${db}`);
  if (!p.scan) {
    out.push('no corpus scan covers this layer yet: run `textdream scan --corpus brown` with the same --model and --db');
  } else {
    const sc = p.scan;
    out.push(`scan ${sc.id.slice(0, 8)} of ${sc.corpus} · ${sc.tokensDone.toLocaleString('en-US')} tokens (${sc.status}) · windows of ${sc.config.window}`);
  }
  const s = p.stats;
  if (s) {
    out.push('');
    out.push(`max ${fmt(s.max)} · mean ${fmt(s.mean)} · std ${fmt(s.std)} · min ${fmt(s.min)} · active (> 0) on ${(100 * s.positive).toFixed(2)} % of tokens`);
    const q = s.quantiles.map((x) => `p${+(100 * x.q).toPrecision(4)} ${fmt(x.value, 3)}`);
    out.push(`quantiles${s.sampled < s.count ? ` (from ${s.sampled.toLocaleString('en-US')} sampled tokens)` : ''}: ${q.join(' · ')}`);
  }
  if (p.top.length) {
    out.push('');
    out.push(`top ${Math.min(examples, p.top.length)} windows (strongest token in ⟦ ⟧):`);
    for (const e of p.top.slice(0, examples)) out.push(`  ${String(e.rank).padStart(3)}  ${fmt(e.max).padStart(8)}  ${e.docId}@${e.start}  ${oneLine(markedText(e), 200)}`);
  }
  if (p.random.length) {
    out.push('');
    out.push(`random windows (${p.random.length}):`);
    for (const e of p.random) out.push(`       ${fmt(e.max).padStart(8)}  ${e.docId}@${e.start}  ${oneLine(markedText(e), 200)}`);
  }
  out.push('');
  if (p.dreams.length) {
    out.push(`dreams (${p.dreams.length}):`);
    for (const d of p.dreams) out.push(`  ${d.id.slice(0, 8)}  ${d.createdAt.slice(0, 16).replace('T', ' ')}  ${d.method.padEnd(9)} ${d.status.padEnd(11)} best ${fmt(d.bestValue ?? NaN).padStart(8)}  ${d.bestText === null ? '' : oneLine(d.bestText, 80)}`);
  } else out.push('dreams: none yet (`textdream dream --layer … --neuron …`)');
  if (p.explanations.length) {
    out.push(`explanations (${p.explanations.length}):`);
    for (const x of p.explanations) out.push(`  ${x.score === null ? '     —' : fmt(x.score, 3).padStart(6)}  ${x.source.padEnd(10)} ${oneLine(x.text, 120)}`);
  } else out.push('explanations: none yet');
  return out.join('\n') + '\n';
}

export default defineCommand({
  name: 'neuron',
  summary: "show a neuron's page from the store: statistics, quantiles, top windows, dreams and explanations",
  usage: '--layer <L> --neuron <N> [--model <dir|hub id>] [--db <file>] [--scan <id>] [--examples <k>] [--random <n>] [--json]',
  options: {
    layer: { type: 'string', arg: '<L>', description: 'block of the MLP neuron, 0-based' },
    neuron: { type: 'string', arg: '<N>', description: 'the neuron in that layer' },
    db: DB_OPTION,
    scan: { type: 'string', arg: '<id>', description: 'read this scan (default: the newest finished scan of the model covering the layer)' },
    examples: { type: 'string', arg: '<k>', description: 'top windows shown (default 10; --json gives all)' },
    random: { type: 'string', arg: '<n>', description: 'random windows shown (default 0; --json gives all)' },
  },
  async run(values, _positionals, io) {
    const layer = required(parseInteger(values.layer, '--layer'), '--layer', 'give the block of the neuron, e.g. --layer 1 --neuron 7');
    const neuron = required(parseInteger(values.neuron, '--neuron'), '--neuron', 'give the neuron, e.g. --layer 1 --neuron 7');
    inRange(layer, '--layer', { min: 0, max: 10_000 });
    inRange(neuron, '--neuron', { min: 0, max: 1_000_000 });
    const examples = inRange(parseInteger(values.examples, '--examples') ?? 10, '--examples', { min: 0, max: 1000 });
    const random = inRange(parseInteger(values.random, '--random') ?? 0, '--random', { min: 0, max: 1000 });
    const db = resolveStorePath(values.db, io.env);
    const { spec, key } = modelKey(values.model, io);
    const store = openCliStore(db);
    try {
      const known = store.listModels().find((m) => m.fingerprint === key || m.spec === key);
      if (known && known.nLayer > 0) {
        inRange(layer, '--layer', { min: 0, max: known.nLayer - 1, describe: `this model has layers 0-${known.nLayer - 1}` });
        inRange(neuron, '--neuron', { min: 0, max: known.dMlp - 1, describe: `each layer has neurons 0-${known.dMlp - 1}` });
      }
      const page = store.neuronPage({ model: key, layer, neuron, scanId: values.scan });
      if (!page) {
        if (values.scan) throw new UsageError(`no scan ${values.scan} in ${db}: see \`textdream history --db ${db}\``);
        throw new UsageError(`nothing stored for model ${spec} in ${db}: run \`textdream scan --model ${spec} --corpus brown\` (or dream) first, or pass the --db that holds it`);
      }
      if (values.json) printJSON(io, page);
      else io.stdout(render({ ...page, random: page.random.slice(0, random) }, db, examples));
      return 0;
    } finally {
      store.close();
    }
  },
});
