// `textdream dream`: optimise an input text so that a neuron (or a weighted sum of neurons) fires. Every
// reported value is a hard one: the dream is decoded to text, re-tokenised and run through the model again.
import { expressionTarget, ObjectiveExpressionError } from '../../dream/objectiveExpression.js';
import { checkAgainstModel, dreamConfig, type DreamConfig, type TargetSpec } from '../../dream/config.js';
import { dreamSettingOptions, parseDreamSettings } from '../dreamOptions.js';
import type { Dream, DreamResult, StepRecord } from '../../dream/loop.js';
import { buildTarget, runDream } from '../../dream/run.js';
import { shippedSeedSource } from '../../dream/seedPool.js';
import { countsAsDream, heldOutMax, normaliseForCopy, readableChoices, SHOWN_DREAMS } from '../../dream/yardstick.js';
import { loadCorpus } from '../../corpus/documents.js';
import { loadShippedJudge } from '../../readability/shipped.js';
import { READABLE_RULE } from '../../readability/assess.js';
import { openStore } from '../../store/open.js';
import type { SqliteStore } from '../../store/sqlite.js';
import { modelRefOf, persistDream } from '../../store/persist.js';
import type { GPT2Config } from '../../model/config.js';
import { inRange, parseInteger } from '../args.js';
import { defineCommand, UsageError } from '../command.js';
import { openModel, progressPrinter } from '../model.js';
import { loadModelJudge, type ModelJudgement } from '../../readability/modelJudge.js';
import { readabilitySplits } from '../../readability/splits.js';
import { fmt, formatDuration, interruptible, oneLine } from '../progress.js';

/** Held-out tokens the neuron's corpus maximum is taken over. */
const YARDSTICK_TOKENS = 20_000;

/**
 * The most readable dream that beats the held-out maximum (yardstick.ts mostReadable) and the next ones from other
 * seeds (readableChoices, SHOWN_DREAMS in all), else the most activating readable one, from the Pareto set of each
 * seed and edit count (the fewest edits come first, so a dream off the overall Pareto set may be the one to show).
 * Only dreams that count under the split rules (yardstick.ts countsAsDream: not corpus text; a seeded dream edited and
 * above its seed) can beat it: `beating` is dreamsThatBeat's list, taken once by the caller, which also hands it to
 * the judge model.
 */
export function readableVerdict(res: DreamResult, beating: Dream[], rank?: (d: Dream) => number): { beats: Dream | null; others: Dream[]; bestReadable: Dream | null } {
  const [first = null, ...others] = readableChoices(beating, SHOWN_DREAMS, rank);
  return { beats: first, others, bestReadable: res.bestReadable ?? null };
}

/** The readable dreams of the Pareto sets that count under the split rules and reach the held-out maximum. */
export function dreamsThatBeat(res: DreamResult, yard: { max: number; corpus: string } | null): Dream[] {
  if (yard === null) return [];
  return (res.paretoByEdits ?? res.pareto ?? []).filter((d) => d.readability?.readable && countsAsDream(d, yard.corpus) && d.value >= yard.max);
}

function verdictText(v: { beats: Dream | null; others: Dream[]; bestReadable: Dream | null }, yard: { max: number; tokens: number; span: number } | null, judged?: Map<Dream, ModelJudgement>): string {
  const r = READABLE_RULE;
  const rule = `readable = syntax percentile ≥ ${r.minPercentile}, starts as a sentence, no word more than ${r.maxWordCount} times or twice in a row, no line break, run-on or broken character, every word but the last known; README: Readability`;
  const seed = (d: Dream) => (d.origin ? ` · ${d.origin.edits} edit${d.origin.edits === 1 ? '' : 's'} of the seed ${oneLine(d.origin.seedText, 200)} (${fmt(d.origin.seedValue)})` : '');
  const byModel = (d: Dream) => {
    const j = judged?.get(d);
    return j ? ` · judge model percentile ${j.percentile.toFixed(0)}` : '';
  };
  const line = (d: Dream) => `value ${fmt(d.value)} · syntax percentile ${d.readability!.percentile.toFixed(0)}${byModel(d)} · ${oneLine(d.text, 200)}${seed(d)}`;
  const out = ['', `readability (${rule}):`];
  if (judged?.size) out.push(`  shown in order of the judge model's percentile among dreams of as many edits (${[...judged.values()][0].model})`);
  if (yard) out.push(`  the neuron's maximum over ${yard.tokens} held-out tokens${yard.span > 1 ? ` (mean over ${yard.span} tokens, as the dreams' value)` : ''}: ${fmt(yard.max)}`);
  if (v.beats) {
    out.push(`  most readable dream that beats it: ${line(v.beats)}`);
    for (const d of v.others) out.push(`  from another seed: ${line(d)}`);
  }
  else if (yard) out.push(`  no readable dream beat it (corpus text and unedited or unimproved seeds do not count).${v.bestReadable ? ` The most activating readable dream: ${line(v.bestReadable)}` : ' No dream was readable.'}`);
  else if (v.bestReadable) out.push(`  most activating readable dream: ${line(v.bestReadable)}`);
  else out.push('  no dream was readable');
  return out.join('\n') + '\n';
}

/**
 * `--objective "L2N100 - 0.5*L2N7"`, `"sae:L2.resid_pre:123 - 0.5*L1N7"` → the target: one neuron or one latent when
 * that is all it names, else a sum.
 */
export function objectiveTarget(expression: string): TargetSpec {
  try {
    return expressionTarget(expression);
  } catch (e) {
    if (e instanceof ObjectiveExpressionError) throw new UsageError(`--objective: ${e.message}`);
    throw e;
  }
}

/** `--sum "1:7:1.0,0:3:-0.5"` → terms (a missing weight is 1); syntax only, ranges are checked against the model. */
export function parseSum(value: string): { layer: number; neuron: number; weight: number }[] {
  const parts = value.split(',').map((s) => s.trim());
  return parts.map((p, i) => {
    const m = /^([+-]?\d+):([+-]?\d+)(?::(.+))?$/.exec(p);
    const weight = m ? (m[3] === undefined ? 1 : Number(m[3])) : NaN;
    if (!m || !Number.isFinite(weight)) {
      throw new UsageError(`--sum term ${i + 1} "${p}" is not layer:neuron:weight (e.g. --sum "1:7:1.0,0:3:-0.5")`);
    }
    return { layer: Number(m[1]), neuron: Number(m[2]), weight };
  });
}

function checkTarget(target: TargetSpec, c: GPT2Config, sumFlag: string): void {
  const layers = { min: 0, max: c.nLayer - 1, describe: `this model has layers 0-${c.nLayer - 1}` };
  const neurons = { min: 0, max: c.dMlp - 1, describe: `each layer has neurons 0-${c.dMlp - 1}` };
  if (target.kind === 'neuron') {
    inRange(target.layer, sumFlag === '--objective' ? '--objective: layer' : '--layer', layers);
    inRange(target.neuron, sumFlag === '--objective' ? '--objective: neuron' : '--neuron', neurons);
  } else if (target.kind === 'head') {
    inRange(target.layer, '--objective: layer', layers);
    inRange(target.head, '--objective: head', { min: 0, max: c.nHead - 1, describe: `each layer has heads 0-${c.nHead - 1}` });
  } else if (target.kind === 'sum') {
    target.terms.forEach((t, i) => {
      inRange(t.layer, `${sumFlag} term ${i + 1}: layer`, layers);
      inRange(t.neuron, `${sumFlag} term ${i + 1}: neuron`, neurons);
    });
    (target.heads ?? []).forEach((t, i) => {
      inRange(t.layer, `${sumFlag} head term ${i + 1}: layer`, layers);
      inRange(t.head, `${sumFlag} head term ${i + 1}: head`, { min: 0, max: c.nHead - 1, describe: `each layer has heads 0-${c.nHead - 1}` });
    });
  }
}

/** The token list of a dream with the strongest one bracketed: `The⟦ cat⟧ sat`. */
function markStrongest(d: Dream): string {
  const at = strongest(d);
  return d.tokens.map((t, i) => (i === at ? `⟦${t}⟧` : t)).join('');
}

function strongest(d: Dream): number {
  let at = -1;
  d.perToken.forEach((v, i) => {
    if (at < 0 || v > d.perToken[at]) at = i;
  });
  return at;
}

/** Readability in one line: percentile, repetition, and the verdict with its reason. */
export function readabilityLine(d: Dream): string {
  const r = d.readability!;
  return `readability: syntax percentile ${r.percentile.toFixed(1)} · most repeated word ×${r.maxWordCount} · distinct-2 ${r.distinct2.toFixed(2)} · ${r.readable ? 'readable' : `not readable (${r.reason})`}`;
}

function progressLine(r: StepRecord, steps: number): string {
  const b = r.dreams[r.best];
  const hard = b ? `best hard ${fmt(b.value)} (CE ${fmt(b.ce, 2)} nats)` : 'best hard n/a';
  return `step ${r.step}/${steps}  soft ${fmt(r.soft)}  ${hard}  ${formatDuration(r.elapsedMs)}  ${b ? oneLine(b.text, 80) : ''}\n`;
}

function summaryText(res: DreamResult, last: StepRecord | undefined, bestStep: number | null, spec: string): string {
  const c = res.config;
  const out: string[] = [];
  const reduce = `${c.transform === 'sigmoid' ? 'sigmoid ' : ''}${c.reduce}`;
  out.push(`dream ${res.target} (${reduce} over tokens) · model ${spec} · method ${res.method} · seed ${c.seed}`);
  out.push(
    `${res.stopped === 'aborted' ? `stopped after ${res.steps}/${c.steps} steps (interrupted)` : `${res.steps} steps`} · ` +
      `${res.forwardEquivalents} forward-equivalents · ${formatDuration(res.elapsedMs)}`,
  );
  out.push('');
  const b = res.best;
  if (!b) {
    out.push('no dream could be measured (every decoded text was empty)');
  } else {
    const when = bestStep === null ? 'one of the initial texts' : `step ${bestStep}`;
    out.push(`best dream (${b.label}, ${when}): hard value ${fmt(b.value)} (${c.reduce}) · max ${fmt(b.max)} · mean ${fmt(b.mean)} · CE ${fmt(b.ce, 3)} nats`);
    out.push(`  ${oneLine(b.text, 400)}`);
    if (b.readability) out.push(`  ${readabilityLine(b)}`);
    out.push(`  ${markStrongest(b)}`);
    const at = strongest(b);
    const width = Math.min(18, Math.max(...b.tokens.map((t) => JSON.stringify(t).length)));
    b.tokens.forEach((t, i) => {
      const mark = i === at ? '  ⟦strongest⟧' : '';
      out.push(`  ${String(i).padStart(4)}  ${String(b.ids[i]).padStart(6)}  ${JSON.stringify(t).padEnd(width)}  ${fmt(b.perToken[i]).padStart(9)}${mark}`);
    });
  }
  if (res.bestPerLabel.length > 1 || res.method === 'fluent') {
    out.push('');
    out.push(res.method === 'fluent' ? 'best per λ (the fluency frontier: higher λ trades activation for lower CE):' : 'best per sequence:');
    const w = Math.max(...res.bestPerLabel.map((d) => d.label.length));
    for (const d of res.bestPerLabel) {
      const pct = d.readability ? `  syntax pct ${d.readability.percentile.toFixed(0).padStart(3)}${d.readability.readable ? ' readable' : '         '}` : '';
      out.push(`  ${d.label.padEnd(w)}  value ${fmt(d.value).padStart(9)}  CE ${fmt(d.ce, 3).padStart(7)} nats${pct}  ${oneLine(d.text, 80)}`);
    }
  }
  const init = res.initial.reduce<Dream | null>((a, d) => (Number.isFinite(d.value) && (!a || d.value > a.value) ? d : a), null);
  out.push('');
  out.push(init ? `initial best (${init.label}): value ${fmt(init.value)} · CE ${fmt(init.ce, 3)} nats  ${oneLine(init.text, 80)}` : 'initial best: n/a');
  if (last) {
    const hard = last.dreams.filter((d) => Number.isFinite(d.value));
    const mean = hard.length ? hard.reduce((a, d) => a + d.value, 0) / hard.length : NaN;
    out.push(`last record (step ${last.step}): soft ${fmt(last.soft)} vs hard mean ${fmt(mean)} / hard best ${fmt(last.dreams[last.best]?.value ?? NaN)}`);
  }
  out.push('note: soft values are what the optimiser sees (continuous inputs for embed/projected/subspace); they are not');
  out.push('evidence. Every value above except "soft" is hard: measured on the decoded text, re-tokenised and run again.');
  return out.join('\n') + '\n';
}

export default defineCommand({
  name: 'dream',
  summary: 'dream a text that makes a neuron fire: optimise, decode, and report hard (re-measured) activations',
  usage: '(--layer <L> --neuron <N> | --objective "<expr>" | --sum <L:N:w,...>) [--method <m>] [--steps <n>] [--seq-len <T>] [options] [--json: one JSON line per record, then a summary line]',
  options: {
    layer: { type: 'string', arg: '<L>', description: 'block of the target MLP neuron (mlp.hook_post), 0-based' },
    neuron: { type: 'string', arg: '<N>', description: 'the target neuron in that layer' },
    objective: { type: 'string', arg: '"<expr>"', description: 'target a weighted sum of neurons, attention heads (their output norm, L<layer>H<head>) and SAE latents, e.g. "L2N100 - 0.5*L2N7", "L1H3 - 0.2*L1N7", "sae:L2.resid_pre:123" (the SAE beside the model) or "sae:<folder or org/repo/hook folder on the hub>:123 - 0.5*L1N7"' },
    sum: { type: 'string', arg: '<L:N:w,...>', description: 'target a weighted sum of neurons instead, e.g. "1:7:1.0,0:3:-0.5"' },
    'judge-model': { type: 'string', arg: '<dir|hub id>', description: 'a second GPT-2-family model (folder, hub cache or hub id) that judges the readable dreams beating the neuron\'s held-out maximum: its percentile among held-out human windows is printed beside each and orders the ones shown (README: Readability)' },
    db: { type: 'string', arg: '<file>', description: 'experiment store the run is saved to (`:memory:` keeps nothing); default TEXTDREAM_DB, else the per-user data folder' },
    ...dreamSettingOptions(),
  },
  async run(values, _positionals, io) {
    // Syntax and model-independent ranges first (fail before loading anything).
    const hasNeuron = values.layer !== undefined || values.neuron !== undefined;
    if (values.sum !== undefined && hasNeuron) throw new UsageError('give either --layer/--neuron or --sum, not both');
    if (values.objective !== undefined && (hasNeuron || values.sum !== undefined)) throw new UsageError('give either --objective, --layer/--neuron or --sum, not two of them');
    let target: TargetSpec;
    if (values.objective !== undefined) {
      target = objectiveTarget(values.objective);
    } else if (values.sum !== undefined) {
      target = { kind: 'sum', terms: parseSum(values.sum) };
    } else {
      const layer = parseInteger(values.layer, '--layer');
      const neuron = parseInteger(values.neuron, '--neuron');
      if (layer === undefined) throw new UsageError('--layer is required: give the block of the target neuron, e.g. --layer 1 --neuron 7 (or use --sum)');
      if (neuron === undefined) throw new UsageError('--neuron is required: give the target neuron, e.g. --layer 1 --neuron 7 (or use --sum)');
      target = { kind: 'neuron', layer, neuron };
    }
    const cfg: Partial<DreamConfig> & { target: TargetSpec } = { target, ...parseDreamSettings(values) };
    // Every setting's type, range and the method's own rules, before the model loads.
    const complete = dreamConfig(cfg);

    const judgeSpec = values['judge-model'];
    if (judgeSpec !== undefined && (judgeSpec === '' || target.kind !== 'neuron')) {
      throw new UsageError(judgeSpec === '' ? '--judge-model is empty: give a model folder or a Hugging Face id' : '--judge-model judges the dreams that beat a neuron\'s held-out maximum: give --layer and --neuron');
    }
    const { lm, spec } = await openModel(values, io);
    const interrupt = interruptible(io, 'the dream');
    let store: SqliteStore | undefined;
    let disposeJudge: (() => void) | undefined;
    let runId = '';
    try {
      const c = lm.config;
      checkTarget(target, c, values.objective !== undefined ? '--objective' : '--sum');
      checkAgainstModel(complete, c);
      // Every dream is kept in the experiment store (records as they come; `--db :memory:` keeps nothing).
      store = openStore(values.db, io.env);
      const judge = (await loadShippedJudge(lm.tokenizer)).judge;
      // The corpus is read once: the judge model's held-out windows, and after the run the copy check.
      let corpusDocs: ReturnType<typeof loadCorpus> | undefined;
      const corpusOnce = () => (corpusDocs ??= loadCorpus('brown+sotu'));
      // Loaded before the run, so a wrong folder fails now rather than after it.
      const modelJudge = judgeSpec === undefined ? null : await loadModelJudge(judgeSpec, lm.tokenizer, readabilitySplits(await corpusOnce()).heldOut.map((d) => lm.tokenizer.encode(d.text)), { env: io.env, onProgress: progressPrinter(io, judgeSpec) });
      disposeJudge = modelJudge?.dispose;
      const seedSource = complete.method === 'seeded' ? shippedSeedSource(lm.model, lm.tokenizer) : undefined;
      const gen = persistDream(store, modelRefOf(lm, spec), runDream({ model: lm.model, tokenizer: lm.tokenizer, modelDir: lm.source.dir, judge, seedSource, env: io.env }, complete, interrupt.signal), complete);
      runId = gen.runId;
      const steps = complete.steps;
      let last: StepRecord | undefined;
      let result: DreamResult;
      // The loop keeps its best dream by reference, so the record that holds it says when it was found.
      const foundAt = new Map<Dream, number>();
      for (;;) {
        const n = await gen.next();
        if (n.done) {
          result = n.value;
          break;
        }
        last = n.value;
        for (const d of n.value.dreams) foundAt.set(d, n.value.step);
        if (values.json) io.stdout(JSON.stringify({ type: 'step', ...n.value }) + '\n');
        io.stderr(progressLine(n.value, steps));
      }
      // The yardstick: the neuron's maximum over held-out text (targets other than one neuron have none here).
      const yard = target.kind === 'neuron' ? await heldOutMax(lm.model, lm.tokenizer, buildTarget(lm.model, target), YARDSTICK_TOKENS, 16, { reduce: complete.reduce, span: complete.seqLen }) : null;
      const corpus = yard ? normaliseForCopy((await corpusOnce()).map((d) => d.text).join('\n')) : '';
      const beating = dreamsThatBeat(result, yard && { max: yard.max, corpus });
      let judged: Map<Dream, ModelJudgement> | undefined;
      if (modelJudge && yard) {
        if (beating.length) io.stderr(`judging ${beating.length} dream${beating.length === 1 ? '' : 's'} with ${judgeSpec}\n`);
        const js = await modelJudge.judge.judge(beating.map((d) => d.text));
        judged = new Map(beating.map((d, i) => [d, js[i]]));
      }
      const verdict = readableVerdict(result, beating, judged && ((d) => judged!.get(d)!.percentile));
      const judgeModel = judged && { model: judgeSpec, judgements: [...judged].map(([d, j]) => ({ text: d.text, logProb: j.logProb, percentile: j.percentile })) };
      if (values.json) io.stdout(JSON.stringify({ type: 'summary', model: spec, runId, ...result, heldOutMax: yard, readableVerdict: verdict, ...(judgeModel ? { judgeModel } : {}) }) + '\n');
      else io.stdout(summaryText(result, last, (result.best && foundAt.get(result.best)) ?? null, spec) + verdictText(verdict, yard, judged));
      io.stderr(`saved as run ${runId} in ${store!.path}\n`);
      if (result.stopped === 'aborted') {
        io.stderr(`stopped early at step ${result.steps}/${steps}: the summary covers the steps run so far\n`);
        return 3;
      }
      return 0;
    } finally {
      interrupt.release();
      store?.close();
      disposeJudge?.();
      lm.model.dispose();
    }
  },
});
