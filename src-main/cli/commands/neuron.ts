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
import { ObjectiveError } from '../../dream/objectives.js';
import { saeDir } from '../../dream/run.js';
import { ModelFileError } from '../../model/errors.js';
import { saeFingerprint } from '../../sae/scanRef.js';

/** The store's key for --model: a local folder's fingerprint, else the spec as given (a hub id). */
export function modelKey(flag: string | undefined, io: CommandIO): { spec: string; key: string; dir?: string } {
  if (flag === '') throw new UsageError('--model is empty: give a model folder or a Hugging Face id');
  const env = settingsFromEnv(io.env);
  const spec = flag || env.model || defaultModelDir();
  const dir = resolve(spec.replace(/^~(?=\/)/, env.home ?? '~'));
  if (existsSync(join(dir, 'config.json'))) {
    const files = weightFilesIn(dir);
    if (files.length) return { spec, key: fingerprintFiles(dir, files), dir };
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
  out.push(`${p.sae ? `sae:${p.sae.spec}:${p.neuron}` : `L${p.layer}N${p.neuron}`} · ${p.hook} · model ${model} · store ${db}`);
  if (!p.scan) {
    out.push('no corpus scan covers this layer yet: run `textdream scan --corpus brown` with the same --model and --db');
  } else if (p.sae && !p.stats) {
    out.push(`latent ${p.neuron} is out of range: the SAE ${p.sae.spec} has latents 0-${p.sae.latents - 1}`);
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
  } else out.push(p.sae ? `dreams: none yet (\`textdream dream --objective "sae:${p.sae.spec}:${p.neuron}"\`)` : 'dreams: none yet (`textdream dream --layer … --neuron …`)');
  if (p.explanations.length) {
    out.push(`explanations (${p.explanations.length}):`);
    for (const x of p.explanations) out.push(`  ${x.score === null ? '     —' : fmt(x.score, 3).padStart(6)}  ${x.source.padEnd(10)} ${oneLine(x.text, 120)}`);
  } else out.push('explanations: none yet');
  return out.join('\n') + '\n';
}

export default defineCommand({
  name: 'neuron',
  summary: "show a neuron's page from the store: statistics, quantiles, top windows, dreams and explanations",
  usage: '--layer <L> --neuron <N> | --sae <L2.resid_pre|dir> --latent <N>  [--model <dir|hub id>] [--db <file>] [--scan <id>] [--examples <k>] [--random <n>] [--json]',
  options: {
    layer: { type: 'string', arg: '<L>', description: 'block of the MLP neuron, 0-based' },
    neuron: { type: 'string', arg: '<N>', description: 'the neuron in that layer' },
    sae: { type: 'string', arg: '<L2.resid_pre|dir|org/repo/folder>', description: 'an SAE latent\'s page instead (from `textdream scan --sae`), with --latent' },
    latent: { type: 'string', arg: '<N>', description: 'the SAE latent' },
    db: DB_OPTION,
    scan: { type: 'string', arg: '<id>', description: 'read this scan (default: the newest finished scan of the model covering the layer)' },
    examples: { type: 'string', arg: '<k>', description: 'top windows shown (default 10; --json gives all)' },
    random: { type: 'string', arg: '<n>', description: 'random windows shown (default 0; --json gives all)' },
  },
  async run(values, _positionals, io) {
    if (values.sae !== undefined) return latentPage(values, io);
    if (values.latent !== undefined) throw new UsageError('--latent needs --sae: name the SAE, e.g. --sae L2.resid_pre --latent 5');
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

/** `--sae X --latent N`: the latent's page from the newest scan of that SAE (its files fingerprinted, not loaded). */
async function latentPage(values: Record<string, string | boolean | undefined>, io: CommandIO): Promise<number> {
  const where = String(values.sae);
  if (!where.trim()) throw new UsageError('--sae is empty: name an SAE, e.g. --sae L2.resid_pre --latent 5');
  if (values.layer !== undefined || values.neuron !== undefined) throw new UsageError('--sae with --latent shows an SAE latent: drop --layer and --neuron');
  const latent = inRange(required(parseInteger(values.latent as string | undefined, '--latent'), '--latent', 'give the latent, e.g. --sae L2.resid_pre --latent 5'), '--latent', { min: 0, max: 100_000_000 });
  const examples = inRange(parseInteger(values.examples as string | undefined, '--examples') ?? 10, '--examples', { min: 0, max: 1000 });
  const random = inRange(parseInteger(values.random as string | undefined, '--random') ?? 0, '--random', { min: 0, max: 1000 });
  const db = resolveStorePath(values.db as string | undefined, io.env);
  const { spec, key, dir } = modelKey(values.model as string | undefined, io);
  let fingerprint: string;
  try {
    fingerprint = saeFingerprint(await saeDir({ modelDir: dir, env: io.env }, where));
  } catch (e) {
    if (e instanceof ObjectiveError || e instanceof ModelFileError) throw new UsageError(`--sae ${where}: ${e.message}`);
    throw e;
  }
  const store = openCliStore(db);
  try {
    const page = store.neuronPage({ model: key, layer: 0, neuron: latent, sae: fingerprint, scanId: values.scan as string | undefined });
    if (!page) throw new UsageError(`no scan of the SAE ${where} for model ${spec} in ${db}: run \`textdream scan --sae ${where} --model ${spec} --corpus brown --db ${db}\` first`);
    if (page.sae && latent >= page.sae.latents) throw new UsageError(`--latent ${latent} is out of range: the SAE ${where} has latents 0-${page.sae.latents - 1}`);
    if (values.json) printJSON(io, page);
    else io.stdout(render({ ...page, random: page.random.slice(0, random) }, db, examples));
    return 0;
  } finally {
    store.close();
  }
}
