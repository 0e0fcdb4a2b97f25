// Assemble a dream from its config: target → objective, the method its registry entry builds, then the loop.
import type { GPT2 } from '../model/gpt2.js';
import { checkAgainstModel, dreamConfig, methodDefinition, type DreamConfig, type DreamRequest, type TargetSpec } from './config.js';
import { dreamLoop, type DreamContext, type DreamResult, type StepRecord } from './loop.js';
import type { DreamMethod } from './method.js';
import { checkNeuron, directionTarget, headTarget, neuronTarget, ObjectiveError, saeLatentTarget, targetObjective, weightedSumTarget, type Target } from './objectives.js';
import { loadSae, saeDirFor, type Sae } from '../sae/load.js';
import { locateSae } from '../sae/locate.js';
import { SAE_SITES, saeHookPoint } from '../sae/activations.js';
import { initialTokens } from './params.js';
import { sampleSequences } from '../model/generate.js';

/** Nucleus mass of the model samples `--init samples` starts from. */
export const INIT_TOP_P = 0.9;

export function buildTarget(model: GPT2, spec: TargetSpec): Target {
  if (spec.kind === 'neuron') {
    checkNeuron(model, spec.layer, spec.neuron);
    return neuronTarget(spec.layer, spec.neuron);
  }
  if (spec.kind === 'head') return headTarget(model, spec.layer, spec.head);
  if (spec.kind === 'sum') {
    if (spec.latents?.length) throw new ObjectiveError('a sum with SAE latents is loaded from their folders: use resolveTarget');
    return weightedSumTarget(unitTerms(model, spec));
  }
  if (spec.kind === 'sae') throw new ObjectiveError('an SAE latent target is loaded from its folder: use resolveTarget');
  if (spec.direction.length !== model.config.dModel) {
    throw new ObjectiveError(`direction has ${spec.direction.length} components; the residual stream is ${model.config.dModel} wide`);
  }
  return directionTarget(spec.hook, Float32Array.from(spec.direction), spec.layer, spec.label);
}

/** A sum's neurons and heads as weighted targets (ranges checked against the model). */
function unitTerms(model: GPT2, spec: Extract<TargetSpec, { kind: 'sum' }>): { weight: number; target: Target }[] {
  for (const t of spec.terms) checkNeuron(model, t.layer, t.neuron);
  return [
    ...spec.terms.map((t) => ({ weight: t.weight, target: neuronTarget(t.layer, t.neuron) })),
    ...(spec.heads ?? []).map((h) => ({ weight: h.weight, target: headTarget(model, h.layer, h.head) })),
  ];
}

/**
 * `L2.resid_pre` → <model folder>/saes/blocks.2.hook_resid_pre (where train-sae writes); anything else is a local
 * folder or a hub SAE, `org/name/sub/folder` (sae/locate.ts).
 */
export async function saeDir(ctx: Pick<DreamContext, 'modelDir' | 'env'>, where: string): Promise<string> {
  const hook = modelSaeHook(where);
  if (!hook) return (await locateSae(where, ctx.env ? { env: ctx.env } : {})).dir;
  if (!ctx.modelDir) throw new ObjectiveError(`sae:${where} names an SAE beside the model, but this model has no folder: give the SAE's folder instead`);
  return saeDirFor(ctx.modelDir, hook);
}

/** For `L2.resid_pre`, an SAE beside the model: the hook train-sae names its output folder by; else null. */
export function modelSaeHook(where: string): string | null {
  const m = /^L(\d+)\.(\w+)$/.exec(where);
  const site = SAE_SITES.find((s) => s === m?.[2]);
  return m && site ? saeHookPoint(Number(m[1]), site).name : null;
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
    const units = spec.kind === 'sum' ? unitTerms(ctx.model, spec) : [];
    const target = weightedSumTarget([...units, ...latentTargets]);
    return { target, release };
  } catch (e) {
    release();
    throw e;
  }
}

/** The SAE `sae:<where>` names (`L2.resid_pre` beside the model, a folder, or a hub folder), checked against the model. */
export async function openSae(ctx: Pick<DreamContext, 'model' | 'modelDir' | 'env'>, where: string): Promise<Sae> {
  return checkedSae(ctx, await saeDir(ctx, where));
}

async function checkedSae(ctx: Pick<DreamContext, 'model'>, dir: string): Promise<Sae> {
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

/** The method the config names, built on the target: its inputs are what every method may start from. */
export async function buildMethod(ctx: DreamContext, target: Target, cfg: DreamConfig): Promise<DreamMethod> {
  const { model, tokenizer } = ctx;
  const definition = methodDefinition(cfg.method);
  const objective = targetObjective(target, { reduce: cfg.reduce, transform: cfg.transform });
  const prompt = cfg.prompt ? tokenizer.encode(cfg.prompt) : undefined;
  if (cfg.prompt !== undefined && !prompt?.length) throw new ObjectiveError('--prompt is empty: give some text or leave it out');
  const samples = cfg.init === 'samples' || (cfg.init === 'auto' && !!definition.samplesByDefault);
  const startTokens = async (rows: number) => {
    if (samples && !prompt) {
      // Sampling costs one forward pass per token of each row (counted against the method's compute).
      return { tokens: await sampleSequences(model, rows, cfg.seqLen, { topP: INIT_TOP_P, seed: cfg.seed }), cost: rows * cfg.seqLen };
    }
    return { tokens: initialTokens(model.config.vocabSize, rows, cfg.seqLen, cfg.seed, prompt), cost: 0 };
  };
  if (cfg.judgeWeight > 0 && !ctx.judge) throw new ObjectiveError('--judge-weight needs the readability judge (resources/readability/judge.bin.gz, or build one with textdream build-judge)');
  const judge = ctx.judge;
  const judgeTerm = judge && cfg.judgeWeight > 0 ? (text: string) => cfg.judgeWeight * judge.scores(text).score : undefined;
  return definition.build({ ctx, target, objective, cfg: cfg as never, prompt, startTokens, judgeTerm });
}

/** Validate, build and run. The generator yields step records and returns the summary. */
export function runDream(ctx: DreamContext, partial: DreamRequest, signal?: AbortSignal): AsyncGenerator<StepRecord, DreamResult> {
  const cfg = dreamConfig(partial);
  checkAgainstModel(cfg, ctx.model.config);
  // Targets that need no file are checked now (errors before the run starts); an SAE's folder is read when it starts.
  const early = needsSaeFolders(cfg.target) ? null : buildTarget(ctx.model, cfg.target);
  const definition = methodDefinition(cfg.method);
  if (early) definition.checkTarget?.(ctx, cfg as never, early);
  // Building a method may read files (the autoencoder): done when the run starts, errors surface from next().
  return (async function* () {
    const { target, release } = early ? { target: early, release: () => undefined } : await resolveTarget(ctx, cfg.target);
    try {
      if (!early) definition.checkTarget?.(ctx, cfg as never, target);
      return yield* dreamLoop(ctx, target, await buildMethod(ctx, target, cfg), cfg, signal);
    } finally {
      release();
    }
  })();
}

/** Drain a dream to its summary (tests, benches). */
export async function dreamToEnd(gen: AsyncGenerator<StepRecord, DreamResult>, onRecord?: (r: StepRecord) => void): Promise<DreamResult> {
  for (;;) {
    const n = await gen.next();
    if (n.done) return n.value;
    onRecord?.(n.value);
  }
}
