// Neuron reads for the browser: the logit lens of a neuron's output weights, its activation over a text,
// and "which neurons does this text activate". Corpus statistics and top examples come from a scan source
// (the experiment store's scan); without one the page says so and shows what needs no corpus.
import * as tf from '@tensorflow/tfjs-core';
import type { LensToken, NeuronPage, NeuronSearchResult, TokenValue } from '../api/contract.js';
import { encodeForModel } from '../analysis/tokens.js';
import { checkNeuron } from '../dream/objectives.js';
import type { GPT2 } from '../model/gpt2.js';
import { hookName } from '../model/hooks.js';
import { directionLogits } from '../model/lens.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { Sae } from '../sae/load.js';
import { saeFingerprint } from '../sae/scanRef.js';
import type { ModelRef } from '../store/types.js';
import { InvalidRequestError } from './errors.js';

/** Corpus side of a neuron page, as a scan provides it. */
export type NeuronScanPart = Pick<NeuronPage, 'stats' | 'quantiles' | 'histogram' | 'topExamples' | 'scan'>;

export interface NeuronScanSource {
  /** Null when no scan covers this model (the page then explains how to make one). */
  neuron(ref: ModelRef, layer: number, neuron: number, examples: number): NeuronScanPart | null;
  /** The same for a latent of the SAE with this file fingerprint (its scan by `textdream scan --sae`). */
  latent(ref: ModelRef, sae: string, latent: number, examples: number): NeuronScanPart | null;
}

export const NO_SCAN_NOTE = 'no corpus scan for this model yet: run `textdream scan` with the same --db to fill in statistics and top examples';

export function noScan(note = NO_SCAN_NOTE): NeuronScanPart {
  return { stats: null, quantiles: [], histogram: null, topExamples: [], scan: { missing: note } };
}

/** Tokens a neuron's output row (c_proj row N) promotes and suppresses most, read directly through W_U. */
export async function neuronLens(model: GPT2, tok: TextTokenizer, layer: number, neuron: number, k = 12): Promise<{ top: LensToken[]; bottom: LensToken[] }> {
  checkNeuron(model, layer, neuron);
  const { dModel } = model.config;
  return directionLens(model, tok, () => tf.reshape(tf.slice(model.weights.blocks[layer].proj.W, [neuron, 0], [1, dModel]), [dModel]) as tf.Tensor1D, k);
}

/** Tokens an SAE latent's decoder row (W_dec row N, written into the residual stream) promotes and suppresses most. */
export async function latentLens(model: GPT2, tok: TextTokenizer, sae: Sae, latent: number, k = 12): Promise<{ top: LensToken[]; bottom: LensToken[] }> {
  checkLatent(sae, latent);
  const d = sae.config.dIn;
  return directionLens(model, tok, () => tf.reshape(tf.slice(sae.weights.W_dec, [latent, 0], [1, d]), [d]) as tf.Tensor1D, k);
}

function checkLatent(sae: Sae, latent: number): void {
  if (!Number.isInteger(latent) || latent < 0 || latent >= sae.config.dSae) throw new InvalidRequestError(`latent ${latent} is out of range: the SAE at ${sae.dir} has latents 0-${sae.config.dSae - 1}`);
}

async function directionLens(model: GPT2, tok: TextTokenizer, direction: () => tf.Tensor1D, k: number): Promise<{ top: LensToken[]; bottom: LensToken[] }> {
  const [topV, topI, botV, botI] = tf.tidy(() => {
    const logits = directionLogits(model, direction()); // [V]
    const top = tf.topk(logits, k);
    const bottom = tf.topk(tf.neg(logits), k);
    return [top.values, top.indices, tf.neg(bottom.values), bottom.indices];
  });
  try {
    const [tv, ti, bv, bi] = (await Promise.all([topV.data(), topI.data(), botV.data(), botI.data()])) as Float32Array[];
    const rows = (v: ArrayLike<number>, i: ArrayLike<number>) => {
      const ids = Array.from(i);
      const texts = tok.tokenStrings(ids);
      return ids.map((id, j) => ({ id, token: texts[j], logit: v[j] }));
    };
    return { top: rows(tv, ti), bottom: rows(bv, bi) };
  } finally {
    tf.dispose([topV, topI, botV, botI]);
  }
}

function checkText(text: unknown): string {
  if (typeof text !== 'string') throw new InvalidRequestError('text must be a string');
  return text;
}

/** One neuron's post-GELU activation at every token of `text`. */
export async function neuronActivations(model: GPT2, tok: TextTokenizer, layer: number, neuron: number, text: string, sae?: Sae): Promise<TokenValue[]> {
  if (sae) checkLatent(sae, neuron);
  else checkNeuron(model, layer, neuron);
  const ids = encodeForModel(tok, model.config, checkText(text), 'the text');
  const act = tf.tidy(() => {
    // A latent: its SAE's hook, encoded (thresholded) as the SAE defines it.
    const hook = sae ? sae.config.hook.name : hookName(layer, 'mlp.hook_post');
    const r = model.run({ ids: tf.tensor2d([ids], [1, ids.length], 'int32') }, { hooks: [hook], stopAtLayer: (sae ? sae.config.hook.layer : layer) + 1 });
    const h = sae ? sae.encode(r.cache.get(hook)!) : r.cache.get(hook)!;
    return tf.reshape(tf.slice(h, [0, 0, neuron], [1, ids.length, 1]), [ids.length]); // [T]
  });
  try {
    const values = await act.data();
    const texts = tok.tokenStrings(ids);
    return ids.map((_, i) => ({ text: texts[i], value: values[i] }));
  } finally {
    act.dispose();
  }
}

/** The neurons a text activates most: per neuron its largest activation over the tokens, best first. */
export async function searchNeurons(model: GPT2, tok: TextTokenizer, text: string, layer: number | null, top: number): Promise<NeuronSearchResult> {
  const { nLayer, dMlp } = model.config;
  if (layer !== null) checkNeuron(model, layer, 0);
  if (!Number.isInteger(top) || top < 1 || top > 1000) throw new InvalidRequestError(`top must be an integer in 1-1000, got ${top}`);
  const ids = encodeForModel(tok, model.config, checkText(text), 'the text');
  const layers = layer === null ? [...Array(nLayer).keys()] : [layer];
  const [values, indices, argmax] = tf.tidy(() => {
    const hooks = layers.map((l) => hookName(l, 'mlp.hook_post'));
    const r = model.run({ ids: tf.tensor2d([ids], [1, ids.length], 'int32') }, { hooks, stopAtLayer: Math.max(...layers) + 1 });
    const post = tf.concat(hooks.map((h) => tf.reshape(r.cache.get(h)!, [ids.length, dMlp])), 1); // [T, layers·dMlp]
    const best = tf.topk(tf.max(post, 0), Math.min(top, layers.length * dMlp));
    return [best.values, best.indices, tf.argMax(post, 0)];
  });
  try {
    const [v, i, at] = await Promise.all([values.data(), indices.data(), argmax.data()]);
    const hits = Array.from(i, (flat, j) => ({
      layer: layers[Math.floor(flat / dMlp)],
      neuron: flat % dMlp,
      max: v[j],
      at: at[flat],
    }));
    return { tokens: tok.tokenStrings(ids), hits };
  } finally {
    tf.dispose([values, indices, argmax]);
  }
}

export async function neuronPage(
  model: GPT2,
  tok: TextTokenizer,
  ref: ModelRef,
  scans: NeuronScanSource | null,
  layer: number,
  neuron: number,
  examples: number,
): Promise<NeuronPage> {
  checkNeuron(model, layer, neuron);
  if (!Number.isInteger(examples) || examples < 0 || examples > 200) throw new InvalidRequestError(`examples must be an integer in 0-200, got ${examples}`);
  const lens = await neuronLens(model, tok, layer, neuron);
  const scan = scans?.neuron(ref, layer, neuron, examples) ?? noScan();
  return { layer, neuron, hook: hookName(layer, 'mlp.hook_post'), sae: null, lens, ...scan };
}

/** An SAE latent's page: the latent's scan (`textdream scan --sae`) and the logit lens of its decoder row. */
export async function latentPage(model: GPT2, tok: TextTokenizer, ref: ModelRef, scans: NeuronScanSource | null, sae: Sae, name: string, latent: number, examples: number): Promise<NeuronPage> {
  checkLatent(sae, latent);
  if (!Number.isInteger(examples) || examples < 0 || examples > 200) throw new InvalidRequestError(`examples must be an integer in 0-200, got ${examples}`);
  const lens = await latentLens(model, tok, sae, latent);
  const scan = scans?.latent(ref, saeFingerprint(sae.dir), latent, examples) ?? noScan(`no scan of the SAE ${name} for this model yet: run \`textdream scan --sae ${name}\` with the same --db`);
  return { layer: sae.config.hook.layer, neuron: latent, hook: sae.config.hook.name, sae: name, lens, ...scan };
}
