// Assemble a dream from a RunConfig: target → objective, parameterisation → method, then the loop.
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { dreamConfig, type DreamConfig, type TargetSpec } from './config.js';
import { gradientMethod } from './continuous.js';
import { fluentMethod } from './fluent.js';
import { beamMethod } from './beam.js';
import { seededMethod } from './seeded.js';
import { dreamLoop, type DreamContext, type DreamResult, type StepRecord } from './loop.js';
import type { DreamMethod } from './method.js';
import { checkNeuron, directionTarget, neuronSumTarget, neuronTarget, ObjectiveError, saeLatentTarget, targetObjective, weightedSumTarget, type Target } from './objectives.js';
import { loadSae, saeDirFor, type Sae } from '../sae/load.js';
import { locateSae } from '../sae/locate.js';
import { SAE_SITES, saeHookPoint } from '../sae/activations.js';
import { initialTokens, projectedParam, subspaceParam, tokenEmbeddingParam } from './params.js';
import { ARGMAX_DECODING, FUSED_DECODING } from '../ae/decode.js';
import { autoencoderDirFor, loadAutoencoder } from '../ae/files.js';
import { latentParam } from './latentParam.js';
import { sampleSequences } from '../model/generate.js';
import { brownTagLexicon } from '../readability/partOfSpeech.js';

/** Nucleus mass of the model samples `--init samples` starts from. */
export const INIT_TOP_P = 0.9;

export function buildTarget(model: GPT2, spec: TargetSpec): Target {
  if (spec.kind === 'neuron') {
    checkNeuron(model, spec.layer, spec.neuron);
    return neuronTarget(spec.layer, spec.neuron);
  }
  if (spec.kind === 'sum') {
    if (spec.latents?.length) throw new ObjectiveError('a sum with SAE latents is loaded from their folders: use resolveTarget');
    for (const t of spec.terms) checkNeuron(model, t.layer, t.neuron);
    return neuronSumTarget(spec.terms);
  }
  if (spec.kind === 'sae') throw new ObjectiveError('an SAE latent target is loaded from its folder: use resolveTarget');
  if (spec.direction.length !== model.config.dModel) {
    throw new ObjectiveError(`direction has ${spec.direction.length} components; the residual stream is ${model.config.dModel} wide`);
  }
  return directionTarget(spec.hook, Float32Array.from(spec.direction), spec.layer, spec.label);
}

/**
 * `L2.resid_pre` → <model folder>/saes/blocks.2.hook_resid_pre (where train-sae writes); anything else is a local
 * folder or a hub SAE, `org/name/sub/folder` (sae/locate.ts).
 */
export async function saeDir(ctx: DreamContext, where: string): Promise<string> {
  const m = /^L(\d+)\.(\w+)$/.exec(where);
  const site = SAE_SITES.find((s) => s === m?.[2]);
  if (!m || !site) return (await locateSae(where, ctx.env ? { env: ctx.env } : {})).dir;
  if (!ctx.modelDir) throw new ObjectiveError(`sae:${where} names an SAE beside the model, but this model has no folder: give the SAE's folder instead`);
  // The same hook name train-sae names its output folder by.
  return saeDirFor(ctx.modelDir, saeHookPoint(Number(m[1]), site).name);
}

/** Whether a target reads SAE folders (and so is built by resolveTarget, when the run starts). */
export const needsSaeFolders = (spec: TargetSpec): boolean => spec.kind === 'sae' || (spec.kind === 'sum' && !!spec.latents?.length);

/**
 * Any target, SAE latents included (their folders are read here, each once): the target and what releases it. An
 * SAE must read a hook of this model and be as wide as it.
 */
export async function resolveTarget(ctx: DreamContext, spec: TargetSpec): Promise<{ target: Target; release: () => void }> {
  if (!needsSaeFolders(spec)) return { target: buildTarget(ctx.model, spec), release: () => undefined };
  const latents = spec.kind === 'sae' ? [{ sae: spec.sae, latent: spec.latent, weight: 1 }] : spec.kind === 'sum' ? (spec.latents ?? []) : [];
  const saes = new Map<string, Sae>();
  const release = () => {
    for (const s of saes.values()) s.dispose();
  };
  try {
    for (const { sae: where } of latents) {
      if (!saes.has(where)) saes.set(where, await checkedSae(ctx, await saeDir(ctx, where)));
    }
    const latentTargets = latents.map((l) => ({ weight: l.weight, target: saeLatentTarget(saes.get(l.sae)!, l.latent, `sae:${l.sae}`) }));
    if (spec.kind === 'sae') return { target: latentTargets[0]!.target, release };
    const neurons = spec.kind === 'sum' ? spec.terms : [];
    for (const t of neurons) checkNeuron(ctx.model, t.layer, t.neuron);
    const target = weightedSumTarget([...neurons.map((t) => ({ weight: t.weight, target: neuronTarget(t.layer, t.neuron) })), ...latentTargets]);
    return { target, release };
  } catch (e) {
    release();
    throw e;
  }
}

async function checkedSae(ctx: DreamContext, dir: string): Promise<Sae> {
  const sae = await loadSae(dir);
  const { nLayer, dModel } = ctx.model.config;
  const fail = (why: string): never => {
    sae.dispose();
    throw new ObjectiveError(`the SAE at ${sae.dir} ${why}: use an SAE trained on this model (textdream train-sae)`);
  };
  if (sae.config.hook.layer >= nLayer) fail(`reads ${sae.config.hook.name}, but this model has layers 0-${nLayer - 1}`);
  if (sae.config.dIn !== dModel) fail(`reads ${sae.config.dIn}-wide activations, but this model's stream is ${dModel} wide`);
  return sae;
}

/** The autoencoder folder `latent` uses: --autoencoder, else the model folder's autoencoders/k<k>. */
export function autoencoderDir(ctx: DreamContext, cfg: DreamConfig): string {
  if (cfg.autoencoder) return cfg.autoencoder;
  if (!ctx.modelDir) throw new ObjectiveError('--method latent needs a sentence autoencoder: pass --autoencoder <dir> (train one with textdream train-ae)');
  return autoencoderDirFor(ctx.modelDir, cfg.k);
}

export async function buildMethod(ctx: DreamContext, target: Target, cfg: DreamConfig): Promise<DreamMethod> {
  const { model, tokenizer } = ctx;
  const objective = targetObjective(target, { reduce: cfg.reduce, transform: cfg.transform });
  const prompt = cfg.prompt ? tokenizer.encode(cfg.prompt) : undefined;
  if (cfg.prompt !== undefined && !prompt?.length) throw new ObjectiveError('--prompt is empty: give some text or leave it out');
  const rows = cfg.method === 'fluent' ? cfg.lambdas.length : cfg.batch;
  const samples = cfg.init === 'samples' || (cfg.init === 'auto' && cfg.method === 'fluent');
  const fromSamples = samples && !prompt && cfg.method !== 'latent';
  const init = fromSamples
    ? await sampleSequences(model, rows, cfg.seqLen, { topP: INIT_TOP_P, seed: cfg.seed })
    : initialTokens(model.config.vocabSize, rows, cfg.seqLen, cfg.seed, prompt);
  // Sampling costs one forward pass per token of each row (counted against the method's compute).
  const initCost = fromSamples ? rows * cfg.seqLen : 0;
  if (cfg.judgeWeight > 0 && !ctx.judge) throw new ObjectiveError('--judge-weight needs the readability judge (resources/readability/judge.bin.gz, or build one with textdream build-judge)');
  const judge = ctx.judge;
  const judgeTerm = judge && cfg.judgeWeight > 0 ? (text: string) => cfg.judgeWeight * judge.scores(text).score : undefined;
  switch (cfg.method) {
    case 'embed':
      return gradientMethod(model, tokenEmbeddingParam(model, init), objective, cfg, initCost);
    case 'projected':
      return gradientMethod(model, projectedParam(model, init, cfg.decoder), objective, cfg, initCost);
    case 'subspace':
      return gradientMethod(model, subspaceParam(model, init, cfg.k, cfg.basis, cfg.seed), objective, cfg, initCost);
    case 'fluent':
      return fluentMethod(model, tokenizer, target, objective, cfg, init, initCost, judgeTerm);
    case 'beam':
      return beamMethod(model, tokenizer, target, cfg, judgeTerm);
    case 'seeded': {
      if (!ctx.seedSource) throw new ObjectiveError('--method seeded needs a seed pool: corpus windows to start from (the CLI and the bench provide one)');
      const { seeds, cost } = await ctx.seedSource(target, cfg.reduce, cfg.seqLen, cfg.batch);
      const tags = cfg.seedEdits === 'part-of-speech' ? await brownTagLexicon() : undefined;
      return seededMethod(model, tokenizer, target, objective, cfg, seeds, cost, judgeTerm, tags);
    }
    case 'latent': {
      const { ae } = await loadAutoencoder(autoencoderDir(ctx, cfg), model);
      try {
        return gradientMethod(model, latentParam(model, ae, cfg.batch, { layer: cfg.latentLayer, straightThrough: cfg.straightThrough, decoding: cfg.latentDecode === 'fused' ? FUSED_DECODING : ARGMAX_DECODING, seed: cfg.seed, init: prompt ? [prompt] : undefined }), objective, cfg);
      } catch (e) {
        ae.dispose();
        throw e;
      }
    }
  }
}

/** Validate, build and run. The generator yields step records and returns the summary. */
export function runDream(ctx: DreamContext, partial: Partial<DreamConfig> & { target: TargetSpec }, signal?: AbortSignal): AsyncGenerator<StepRecord, DreamResult> {
  const cfg = dreamConfig(partial);
  if (cfg.seqLen + 1 > ctx.model.config.nPositions) {
    throw new ObjectiveError(`--seq-len ${cfg.seqLen} plus the <|endoftext|> prefix exceeds the context of ${ctx.model.config.nPositions}`);
  }
  // Targets that need no file are checked now (errors before the run starts); an SAE's folder is read when it starts.
  const early = needsSaeFolders(cfg.target) ? null : buildTarget(ctx.model, cfg.target);
  if (early && cfg.method === 'latent') checkLatent(ctx, cfg, early);
  // Building a method may read files (the autoencoder): done when the run starts, errors surface from next().
  return (async function* () {
    const { target, release } = early ? { target: early, release: () => undefined } : await resolveTarget(ctx, cfg.target);
    try {
      if (!early && cfg.method === 'latent') checkLatent(ctx, cfg, target);
      return yield* dreamLoop(ctx, target, await buildMethod(ctx, target, cfg), cfg, signal);
    } finally {
      release();
    }
  })();
}

/** What can be checked before any file is read: the layer exists and comes no later than the target's. */
function checkLatent(ctx: DreamContext, cfg: DreamConfig, target: Target): void {
  const { nLayer } = ctx.model.config;
  if (cfg.latentLayer >= nLayer) throw new ObjectiveError(`--latent-layer ${cfg.latentLayer} is out of range: this model has layers 0-${nLayer - 1}`);
  const objective = targetObjective(target, { reduce: cfg.reduce, transform: cfg.transform });
  const reads = objective.needsLogits ? nLayer : objective.maxLayer;
  if (cfg.latentLayer > reads) {
    throw new ObjectiveError(`--latent-layer ${cfg.latentLayer} is past what the target reads (layer ${reads}): the decoder must write the residual stream at or before it; choose --latent-layer ≤ ${reads}`);
  }
}

/** Drain a dream to its summary (tests, benches). */
export async function dreamToEnd(gen: AsyncGenerator<StepRecord, DreamResult>, onRecord?: (r: StepRecord) => void): Promise<DreamResult> {
  for (;;) {
    const n = await gen.next();
    if (n.done) return n.value;
    onRecord?.(n.value);
  }
}
