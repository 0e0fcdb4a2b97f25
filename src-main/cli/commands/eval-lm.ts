// `textdream eval-lm`: held-out perplexity of a model against the tuned add-k bigram on exactly the same
// targets, dead MLP neurons per layer, and (--samples) a few generations for the model card.
import { join, resolve } from 'node:path';
import { CORPUS_NAMES, CorpusPackageMissingError, type CorpusName } from '../../corpus/documents.js';
import type { GPT2 } from '../../model/gpt2.js';
import { generate } from '../../model/generate.js';
import type { TextTokenizer } from '../../model/tokenizer.js';
import { evaluateLM } from '../../train/evalLM.js';
import { repetition } from '../../readability/repetition.js';
import { LM_SPLIT, loadLMCorpus } from '../../train/lmCorpus.js';
import { inRange, parseInteger } from '../args.js';
import { defineCommand, printJSON, UsageError } from '../command.js';
import { describeBackend, openModel } from '../model.js';
import { formatDuration, oneLine, parseChoice } from '../progress.js';
import { defaultWorkDir } from './train-lm.js';

export const SAMPLE_PROMPTS = ['The', 'In the', 'It is'] as const;
/** Nucleus samples per run; sample i uses seed (--sample-seed + i) and prompt i mod 3. */
export const SAMPLE_COUNT = 20;
export const SAMPLE_NEW_TOKENS = 40;
const SAMPLE_TOP_P = 0.9;

export interface Sample {
  prompt: string;
  mode: 'greedy' | 'top-p';
  topP: number;
  seed: number | null;
  text: string;
  /** Tokens generated after the prompt (fewer than asked when the model ended the document). */
  newTokens: number;
  /** Over the generated words only, not the prompt. */
  distinct2: number;
  maxRepeat: number;
  maxRepeatWord: string | null;
}

export interface SampleSummary {
  /** Means and medians over the top-p samples (greedy ones show loops, not the model's distribution). */
  meanDistinct2: number;
  medianMaxRepeat: number;
  worstMaxRepeat: number;
}

/** A greedy generation per prompt, then SAMPLE_COUNT nucleus samples, each after an <|endoftext|> (a fresh document). */
export function modelSamples(model: GPT2, tok: TextTokenizer, opts: { seed: number; count?: number; maxNewTokens?: number }): Sample[] {
  const count = opts.count ?? SAMPLE_COUNT;
  const maxNewTokens = opts.maxNewTokens ?? SAMPLE_NEW_TOKENS;
  const one = (prompt: string, topP: number, seed: number | null): Sample => {
    const ids = [model.config.bosTokenId, ...tok.encode(prompt)];
    const generated = generate(model, ids, { maxNewTokens, topP, seed: seed ?? 0 });
    const continuation = tok.decode(generated);
    // The readability judge's own word statistics; distinct-2 is undefined (NaN) below two words.
    const r = repetition(continuation);
    return {
      prompt, mode: topP > 0 ? 'top-p' : 'greedy', topP, seed, text: prompt + continuation, newTokens: generated.length,
      distinct2: r.words < 2 ? NaN : r.distinct2, maxRepeat: r.maxWordCount, maxRepeatWord: r.mostRepeated,
    };
  };
  const out: Sample[] = SAMPLE_PROMPTS.map((p) => one(p, 0, null));
  for (let i = 0; i < count; i++) out.push(one(SAMPLE_PROMPTS[i % SAMPLE_PROMPTS.length]!, SAMPLE_TOP_P, opts.seed + i));
  return out;
}

export function summariseSamples(samples: readonly Sample[]): SampleSummary {
  const sampled = samples.filter((s) => s.mode === 'top-p');
  const d2 = sampled.map((s) => s.distinct2).filter((x) => Number.isFinite(x));
  const repeats = sampled.map((s) => s.maxRepeat).sort((a, b) => a - b);
  const mid = repeats.length >> 1;
  return {
    meanDistinct2: d2.length ? d2.reduce((a, b) => a + b, 0) / d2.length : NaN,
    medianMaxRepeat: repeats.length === 0 ? NaN : repeats.length % 2 ? repeats[mid]! : (repeats[mid - 1]! + repeats[mid]!) / 2,
    worstMaxRepeat: repeats.length ? repeats[repeats.length - 1]! : NaN,
  };
}

export default defineCommand({
  name: 'eval-lm',
  summary: "a model's held-out perplexity against an add-k bigram on the same tokens, and its dead neurons",
  usage: '[--model <dir|hub id>] [--corpus <c>] [--work <dir>] [--max-tokens <n>] [--samples [--sample-seed <n>]] [--json]',
  options: {
    corpus: { type: 'string', arg: `<${CORPUS_NAMES.join('|')}>`, description: 'corpus whose held-out split is scored (default brown+sotu, as train-lm)' },
    work: { type: 'string', arg: '<dir>', description: 'train-lm work folder; its tokens/ cache is reused or filled (default .cache/train-lm)' },
    'max-tokens': { type: 'string', arg: '<n>', description: 'score at most about n held-out tokens (default: all)' },
    batch: { type: 'string', arg: '<B>', description: 'windows per forward pass (default 8)' },
    samples: { type: 'boolean', description: `also print a greedy generation per prompt and ${SAMPLE_COUNT} top-p ${SAMPLE_TOP_P} samples of ${SAMPLE_NEW_TOKENS} tokens from ${SAMPLE_PROMPTS.map((p) => `"${p}"`).join(', ')} in turn, with distinct-2 and the largest repeat count of a word` },
    'sample-seed': { type: 'string', arg: '<n>', description: 'seed of the first sample; sample i uses n + i (default 1)' },
  },
  async run(values, _positionals, io) {
    const corpus: CorpusName = parseChoice(values.corpus, '--corpus', CORPUS_NAMES) ?? 'brown+sotu';
    const maxArg = parseInteger(values['max-tokens'], '--max-tokens');
    const maxTokens = maxArg === undefined ? Infinity : inRange(maxArg, '--max-tokens', { min: 1, max: Number.MAX_SAFE_INTEGER, describe: 'use a positive count' });
    const batchArg = parseInteger(values.batch, '--batch');
    const batch = batchArg === undefined ? 8 : inRange(batchArg, '--batch', { min: 1, max: 1024 });
    const sampleSeed = parseInteger(values['sample-seed'], '--sample-seed') ?? 1;
    if (values['sample-seed'] !== undefined && !values.samples) throw new UsageError('--sample-seed needs --samples');
    if (values.work === '') throw new UsageError('--work is empty: give the train-lm work folder');
    const workDir = resolve(values.work ?? defaultWorkDir());

    const { lm, backend, spec } = await openModel(values, io);
    try {
      const c = lm.config;
      if (c.vocabSize < 50257) {
        throw new UsageError(`the model's vocabulary has ${c.vocabSize} tokens; eval-lm scores GPT-2 tokens (50257), so it needs a GPT-2-vocabulary model`);
      }
      const log = (s: string) => io.stderr(s + '\n');
      const t0 = Date.now();
      let data: Awaited<ReturnType<typeof loadLMCorpus>>;
      try {
        data = await loadLMCorpus(corpus, join(workDir, 'tokens'), log);
      } catch (e) {
        if (e instanceof CorpusPackageMissingError) throw new UsageError(e.message);
        throw e;
      }
      if (data.heldOut.tokens.length <= c.nPositions) {
        throw new UsageError(`the held-out split of ${corpus} has ${data.heldOut.tokens.length} tokens, fewer than one window of ${c.nPositions}`);
      }
      const evaluation = evaluateLM(lm.model, data.train.tokens, data.heldOut.tokens, { batch, maxTokens, log });
      const elapsed = Date.now() - t0;
      const samples = values.samples ? modelSamples(lm.model, lm.tokenizer, { seed: sampleSeed }) : undefined;
      const sampleSummary = samples ? summariseSamples(samples) : undefined;
      if (values.json) {
        printJSON(io, {
          modelSpec: spec,
          backend: backend.name,
          corpus,
          split: { ...LM_SPLIT, trainDocs: data.trainDocs, heldOutDocs: data.heldOutDocs },
          ...evaluation,
          ...(samples ? { samples, sampleSummary } : {}),
        });
        return 0;
      }
      const e = evaluation;
      const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
      const rows: string[] = [
        `model       ${spec} (${c.nLayer} layers, d_model ${c.dModel}, context ${c.nPositions}) · backend ${describeBackend(backend)}`,
        `held-out    ${e.heldOutTokens} tokens of ${corpus} (${data.heldOutDocs} documents; split seed ${LM_SPLIT.seed}) · ${formatDuration(elapsed)}`,
        `perplexity  model  ${e.model.perplexity.toFixed(2).padStart(10)}  (${e.model.natsPerToken.toFixed(4)} nats/token)`,
        `            bigram ${e.bigram.perplexity.toFixed(2).padStart(10)}  (${e.bigram.natsPerToken.toFixed(4)} nats/token; add-k, k=${e.bigram.k} tuned on a dev slice of train, ${e.bigram.trainTokens} train tokens)`,
        e.perplexityReduction >= 0
          ? `reduction   ${pct(e.perplexityReduction)}: the model's perplexity is that much lower than the bigram's on the same targets`
          : `reduction   ${pct(e.perplexityReduction)}: the model is WORSE than the bigram (perplexity ${(e.model.perplexity / e.bigram.perplexity).toFixed(1)}× the bigram's)`,
        `dead MLP neurons (never > ${e.deadNeurons.threshold} on these tokens): ${e.deadNeurons.perLayer.map((f, l) => `L${l} ${pct(f)}`).join(', ')}; all layers ${pct(e.deadNeurons.fraction)}`,
      ];
      io.stdout(rows.join('\n') + '\n');
      if (samples && sampleSummary) {
        io.stdout(`\nsamples (${SAMPLE_NEW_TOKENS} new tokens after <|endoftext|> + prompt; top-p ${SAMPLE_TOP_P}; d2 = distinct-2, rep = largest count of one word):\n`);
        for (const s of samples) {
          const stats = `d2 ${Number.isFinite(s.distinct2) ? s.distinct2.toFixed(2) : ' -  '} rep ${String(s.maxRepeat).padStart(2)}`;
          io.stdout(`  ${(s.mode === 'greedy' ? 'greedy' : `seed ${s.seed}`).padEnd(7)} ${stats}  ${oneLine(s.text, 300)}\n`);
        }
        const m = sampleSummary;
        io.stdout(`top-p samples: mean distinct-2 ${m.meanDistinct2.toFixed(3)}, median largest repeat ${m.medianMaxRepeat}, worst ${m.worstMaxRepeat}\n`);
      }
      return 0;
    } finally {
      lm.model.dispose();
    }
  },
});
