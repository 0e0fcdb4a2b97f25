// Assemble a dream from a RunConfig: target → objective, parameterisation → method, then the loop.
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { dreamConfig, type DreamConfig, type TargetSpec } from './config.js';
import { gradientMethod } from './continuous.js';
import { fluentMethod } from './fluent.js';
import { dreamLoop, type DreamContext, type DreamResult, type StepRecord } from './loop.js';
import type { DreamMethod } from './method.js';
import { checkNeuron, directionTarget, neuronSumTarget, neuronTarget, ObjectiveError, targetObjective, type Target } from './objectives.js';
import { initialTokens, projectedParam, subspaceParam, tokenEmbeddingParam } from './params.js';

export function buildTarget(model: GPT2, spec: TargetSpec): Target {
  if (spec.kind === 'neuron') {
    checkNeuron(model, spec.layer, spec.neuron);
    return neuronTarget(spec.layer, spec.neuron);
  }
  if (spec.kind === 'sum') {
    for (const t of spec.terms) checkNeuron(model, t.layer, t.neuron);
    return neuronSumTarget(spec.terms);
  }
  if (spec.direction.length !== model.config.dModel) {
    throw new ObjectiveError(`direction has ${spec.direction.length} components; the residual stream is ${model.config.dModel} wide`);
  }
  return directionTarget(spec.hook, Float32Array.from(spec.direction), spec.layer, spec.label);
}

export function buildMethod(ctx: DreamContext, target: Target, cfg: DreamConfig): DreamMethod {
  const { model, tokenizer } = ctx;
  const objective = targetObjective(target, { reduce: cfg.reduce, transform: cfg.transform });
  const prompt = cfg.prompt ? tokenizer.encode(cfg.prompt) : undefined;
  if (cfg.prompt !== undefined && !prompt?.length) throw new ObjectiveError('--prompt is empty: give some text or leave it out');
  const rows = cfg.method === 'fluent' ? cfg.lambdas.length : cfg.batch;
  const init = initialTokens(model.config.vocabSize, rows, cfg.seqLen, cfg.seed, prompt);
  switch (cfg.method) {
    case 'embed':
      return gradientMethod(model, tokenEmbeddingParam(model, init), objective, cfg);
    case 'projected':
      return gradientMethod(model, projectedParam(model, init, cfg.decoder), objective, cfg);
    case 'subspace':
      return gradientMethod(model, subspaceParam(model, init, cfg.k, cfg.basis, cfg.seed), objective, cfg);
    case 'fluent':
      return fluentMethod(model, tokenizer, target, objective, cfg, init);
  }
}

/** Validate, build and run. The generator yields step records and returns the summary. */
export function runDream(ctx: DreamContext, partial: Partial<DreamConfig> & { target: TargetSpec }, signal?: AbortSignal): AsyncGenerator<StepRecord, DreamResult> {
  const cfg = dreamConfig(partial);
  if (cfg.seqLen + 1 > ctx.model.config.nPositions) {
    throw new ObjectiveError(`--seq-len ${cfg.seqLen} plus the <|endoftext|> prefix exceeds the context of ${ctx.model.config.nPositions}`);
  }
  const target = buildTarget(ctx.model, cfg.target);
  return dreamLoop(ctx, target, buildMethod(ctx, target, cfg), cfg, signal);
}

/** Drain a dream to its summary (tests, benches). */
export async function dreamToEnd(gen: AsyncGenerator<StepRecord, DreamResult>, onRecord?: (r: StepRecord) => void): Promise<DreamResult> {
  for (;;) {
    const n = await gen.next();
    if (n.done) return n.value;
    onRecord?.(n.value);
  }
}
