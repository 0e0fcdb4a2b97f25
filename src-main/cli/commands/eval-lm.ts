// `textdream eval-lm`: held-out perplexity of a model against the tuned add-k bigram on exactly the same
// targets, dead MLP neurons per layer, and (--samples) a few generations for the model card.
import { join, resolve } from 'node:path';
import { CORPUS_NAMES, CorpusPackageMissingError, type CorpusName } from '../../corpus/documents.js';
import type { GPT2 } from '../../model/gpt2.js';
import { generate } from '../../model/generate.js';
import type { TextTokenizer } from '../../model/tokenizer.js';
import { evaluateLM } from '../../train/evalLM.js';
import { LM_SPLIT, loadLMCorpus } from '../../train/lmCorpus.js';
import { inRange, parseInteger } from '../args.js';
import { defineCommand, printJSON, UsageError } from '../command.js';
import { describeBackend, openModel } from '../model.js';
import { formatDuration, oneLine, parseChoice } from '../progress.js';
import { defaultWorkDir } from './train-lm.js';

export const SAMPLE_PROMPTS = ['The', 'In the', 'It is'] as const;
const SAMPLE_SEEDS = [1, 2, 3];
const SAMPLE_TOP_P = 0.9;

export interface Sample {
  prompt: string;
  mode: 'greedy' | 'top-p';
  topP: number;
  seed: number | null;
  text: string;
}

/** Greedy and nucleus generations from fixed prompts, each after an <|endoftext|> (a fresh document). */
export function modelSamples(model: GPT2, tok: TextTokenizer, maxNewTokens: number): Sample[] {
  const out: Sample[] = [];
  for (const prompt of SAMPLE_PROMPTS) {
    const ids = [model.config.bosTokenId, ...tok.encode(prompt)];
    const run = (topP: number, seed: number) => prompt + tok.decode(generate(model, ids, { maxNewTokens, topP, seed }));
    out.push({ prompt, mode: 'greedy', topP: 0, seed: null, text: run(0, 0) });
    for (const seed of SAMPLE_SEEDS) out.push({ prompt, mode: 'top-p', topP: SAMPLE_TOP_P, seed, text: run(SAMPLE_TOP_P, seed) });
  }
  return out;
}

export default defineCommand({
  name: 'eval-lm',
  summary: "a model's held-out perplexity against an add-k bigram on the same tokens, and its dead neurons",
  usage: '[--model <dir|hub id>] [--corpus <c>] [--work <dir>] [--max-tokens <n>] [--samples] [--json]',
  options: {
    corpus: { type: 'string', arg: `<${CORPUS_NAMES.join('|')}>`, description: 'corpus whose held-out split is scored (default brown+sotu, as train-lm)' },
    work: { type: 'string', arg: '<dir>', description: 'train-lm work folder; its tokens/ cache is reused or filled (default .cache/train-lm)' },
    'max-tokens': { type: 'string', arg: '<n>', description: 'score at most about n held-out tokens (default: all)' },
    batch: { type: 'string', arg: '<B>', description: 'windows per forward pass (default 8)' },
    samples: { type: 'boolean', description: `also print greedy and top-p ${SAMPLE_TOP_P} (seeds ${SAMPLE_SEEDS.join(', ')}) generations from ${SAMPLE_PROMPTS.map((p) => `"${p}"`).join(', ')}` },
  },
  async run(values, _positionals, io) {
    const corpus: CorpusName = parseChoice(values.corpus, '--corpus', CORPUS_NAMES) ?? 'brown+sotu';
    const maxArg = parseInteger(values['max-tokens'], '--max-tokens');
    const maxTokens = maxArg === undefined ? Infinity : inRange(maxArg, '--max-tokens', { min: 1, max: Number.MAX_SAFE_INTEGER, describe: 'use a positive count' });
    const batchArg = parseInteger(values.batch, '--batch');
    const batch = batchArg === undefined ? 8 : inRange(batchArg, '--batch', { min: 1, max: 1024 });
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
      const samples = values.samples ? modelSamples(lm.model, lm.tokenizer, 40) : undefined;
      if (values.json) {
        printJSON(io, {
          modelSpec: spec,
          backend: backend.name,
          corpus,
          split: { ...LM_SPLIT, trainDocs: data.trainDocs, heldOutDocs: data.heldOutDocs },
          ...evaluation,
          ...(samples ? { samples } : {}),
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
      if (samples) {
        io.stdout(`\nsamples (40 new tokens after <|endoftext|> + prompt; top-p ${SAMPLE_TOP_P}):\n`);
        for (const s of samples) io.stdout(`  ${(s.mode === 'greedy' ? 'greedy' : `seed ${s.seed}`).padEnd(7)} ${oneLine(s.text, 300)}\n`);
      }
      return 0;
    } finally {
      lm.model.dispose();
    }
  },
});
