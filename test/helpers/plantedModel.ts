// A tiny GPT-2 (2 layers, 16 wide, the real 50,257-token vocabulary) with one planted neuron: layer 1, neuron 3
// fires on a family of cat words, each with its own strength, and sits at gelu(-1) ≈ -0.159 on every other token.
//
// How: attention and layer 0 are zeroed, so the residual entering layer 1's MLP is the token's embedding. Every
// embedding is zero-mean with norm 1; the family's embeddings are c·u + √(1−c²)·v (u a fixed zero-mean unit
// direction, v ⊥ u), every other token's is ⊥ u. After ln_2 (gain 1, bias 0) the component along u is
// c / √(1/d + ε), and neuron 3's c_fc column is u with bias −1, so its pre-activation is c / √(1/d + ε) − 1.
import { writeFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rng } from '../../src-main/corpus/rng.js';
import { parseGPT2Config, toHFConfig, type GPT2Config } from '../../src-main/model/config.js';
import { GPT2 } from '../../src-main/model/gpt2.js';
import { writeSafetensorsFile, type RawTensor } from '../../src-main/model/safetensors.js';
import { buildWeights, expectedKeys } from '../../src-main/model/weights.js';
import { FIXTURE } from './shared.js';

export const PLANTED = { layer: 1, neuron: 3 };
const D = 16;
const EPS = 1e-5;

/** The family (GPT-2 ids of the words with their leading space) and the cosine of each to the planted direction. */
export const FAMILY = [
  { word: ' cat', id: 3797, c: 1.0 },
  { word: ' kitten', id: 42143, c: 0.8 },
  { word: ' cats', id: 11875, c: 0.6 },
  { word: ' Cat', id: 5181, c: 0.4 },
  { word: ' tiger', id: 26241, c: 0.3 },
] as const;

const GELU_C = Math.sqrt(2 / Math.PI);
export const geluNew = (x: number) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x ** 3)));

/** The planted neuron's activation on a token (float64; the model computes it in float32). */
export function plantedActivation(id: number): number {
  const c = FAMILY.find((f) => f.id === id)?.c ?? 0;
  return geluNew(c / Math.sqrt(1 / D + EPS) - 1);
}

export function plantedConfig(): GPT2Config {
  return parseGPT2Config({
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    vocab_size: 50257,
    n_positions: 64,
    n_embd: D,
    n_layer: 2,
    n_head: 2,
    n_inner: 8,
    layer_norm_epsilon: EPS,
    bos_token_id: 50256,
    eos_token_id: 50256,
  });
}

function unitZeroMean(v: Float64Array, against: Float64Array[]): Float64Array {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  for (let i = 0; i < v.length; i++) v[i] -= mean;
  for (const a of against) {
    const dot = v.reduce((s, x, i) => s + x * a[i], 0);
    for (let i = 0; i < v.length; i++) v[i] -= dot * a[i];
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

export function plantedCheckpoint(seed = 7): Map<string, RawTensor> {
  const c = plantedConfig();
  const rand = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const u = unitZeroMean(Float64Array.from({ length: D }, (_, i) => (i % 2 ? -1 : 1)), []);
  const out = new Map<string, RawTensor>();
  for (const [name, shape] of expectedKeys(c)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/ln_(1|2|f)\.weight$/.test(name)) data.fill(1);
    out.set(name, { name, dtype: 'F32', shape, data });
  }
  const wte = out.get('wte.weight')!.data;
  for (let t = 0; t < c.vocabSize; t++) {
    const v = unitZeroMean(Float64Array.from({ length: D }, normal), [u]);
    const fam = FAMILY.find((f) => f.id === t);
    const cos = fam ? fam.c : 0;
    for (let i = 0; i < D; i++) wte[t * D + i] = cos * u[i] + Math.sqrt(1 - cos * cos) * v[i];
  }
  // Layer 1's MLP: neuron 3 reads u; the others read seeded random directions (so they are not all alike).
  const fc = out.get('h.1.mlp.c_fc.weight')!.data; // [d, dMlp]
  const fcb = out.get('h.1.mlp.c_fc.bias')!.data;
  for (let j = 0; j < c.dMlp; j++) {
    for (let i = 0; i < D; i++) fc[i * c.dMlp + j] = j === PLANTED.neuron ? u[i] : 0.5 * normal();
    fcb[j] = j === PLANTED.neuron ? -1 : 0.1 * normal();
  }
  return out;
}

export function plantedModel(): GPT2 {
  const c = plantedConfig();
  return new GPT2(c, buildWeights(plantedCheckpoint(), c));
}

/** A model folder in the hub's layout (config.json, model.safetensors, the fixture's tokenizer files). */
export async function writePlantedModel(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const { raw: _raw, ...c } = plantedConfig();
  await writeFile(join(dir, 'config.json'), JSON.stringify(toHFConfig(c, { torch_dtype: 'float32' }), null, 2));
  const tensors = [...plantedCheckpoint()].map(([k, t]) => ({ name: `transformer.${k}`, shape: t.shape, data: t.data, dtype: 'F32' as const }));
  await writeSafetensorsFile(join(dir, 'model.safetensors'), tensors);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.json', 'merges.txt']) await copyFile(join(FIXTURE, f), join(dir, f));
  return dir;
}

const FILLER = [
  'The dog sat on the mat and looked at the door for a while.',
  'Rain fell over the town, and the streets were quiet all night.',
  'She opened the window to let the morning air into the room.',
  'A farmer walked along the road with a basket of apples.',
];
/** Documents with the planted words at known places (each word with its leading space, as GPT-2 tokenises it). */
export const PLANTED_TEXTS = [
  `${FILLER[0]} ${FILLER[1]}`,
  `${FILLER[2]} Then a cat jumped onto the wall. ${FILLER[3]}`,
  `${FILLER[1]} ${FILLER[0]} A tiger was painted on the sign.`,
  `${FILLER[3]} The kitten slept. ${FILLER[2]}`,
  `${FILLER[0]} Two cats waited by the gate. ${FILLER[1]} ${FILLER[3]}`,
  `${FILLER[2]} ${FILLER[3]}`,
  `A kitten and the Cat of the house. ${FILLER[0]}`,
  `${FILLER[1]} Another cat ran past. ${FILLER[2]}`,
  `${FILLER[3]} ${FILLER[0]} ${FILLER[2]}`,
  `${FILLER[0]} Old Cat stories. ${FILLER[3]}`,
];

/** The planted documents as a .jsonl corpus file; returns its path. */
export function writePlantedCorpus(path: string): string {
  writeFileSync(path, PLANTED_TEXTS.map((text, i) => JSON.stringify({ id: `doc${i}`, text })).join('\n') + '\n');
  return path;
}
