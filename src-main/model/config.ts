// GPT-2 configuration as Hugging Face writes it in config.json, validated with messages that name the field.
import { join } from 'node:path';
import { ModelFileError, readModelJSON } from './errors.js';

export interface GPT2Config {
  vocabSize: number;
  nPositions: number;
  dModel: number; // n_embd
  nLayer: number;
  nHead: number;
  dMlp: number; // n_inner, or 4·n_embd when null
  layerNormEps: number;
  tieWordEmbeddings: boolean;
  bosTokenId: number;
  eosTokenId: number;
  /** The raw JSON, kept so a saved model round-trips fields we do not interpret. */
  raw: Record<string, unknown>;
}

const SUPPORTED_ACTIVATIONS = ['gelu_new'];

function intField(raw: Record<string, unknown>, key: string, file: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ModelFileError(
      `field "${key}" must be a positive integer, got ${JSON.stringify(raw[key])}`,
      file,
      `set "${key}" in config.json to the value the checkpoint was trained with`,
    );
  }
  return v;
}

export function parseGPT2Config(raw: unknown, file = 'config.json'): GPT2Config {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ModelFileError('not a JSON object', file, 'use the config.json saved with the checkpoint');
  }
  const r = raw as Record<string, unknown>;
  if (r.model_type !== undefined && r.model_type !== 'gpt2') {
    throw new ModelFileError(
      `model_type is "${String(r.model_type)}"; textdream runs GPT-2 family models only`,
      file,
      'choose a GPT-2 checkpoint (gpt2, distilgpt2, or one with model_type "gpt2")',
    );
  }
  const act = (r.activation_function as string | undefined) ?? 'gelu_new';
  if (!SUPPORTED_ACTIVATIONS.includes(act)) {
    throw new ModelFileError(
      `activation_function "${act}" is not supported (supported: ${SUPPORTED_ACTIVATIONS.join(', ')})`,
      file,
      'use a checkpoint trained with gelu_new, as every GPT-2 release is',
    );
  }
  const dModel = intField(r, 'n_embd', file);
  const nHead = intField(r, 'n_head', file);
  if (dModel % nHead !== 0) {
    throw new ModelFileError(`n_embd (${dModel}) is not divisible by n_head (${nHead})`, file, 'fix n_embd or n_head');
  }
  const inner = r.n_inner;
  const dMlp = inner === null || inner === undefined ? 4 * dModel : intField(r, 'n_inner', file);
  const eps = r.layer_norm_epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) {
    throw new ModelFileError(`layer_norm_epsilon must be a positive number, got ${JSON.stringify(eps)}`, file, 'set it to 1e-5');
  }
  const vocabSize = intField(r, 'vocab_size', file);
  return {
    vocabSize,
    nPositions: intField(r, 'n_positions', file, r.n_ctx as number | undefined),
    dModel,
    nLayer: intField(r, 'n_layer', file),
    nHead,
    dMlp,
    layerNormEps: eps,
    tieWordEmbeddings: r.tie_word_embeddings !== false,
    bosTokenId: typeof r.bos_token_id === 'number' ? r.bos_token_id : vocabSize - 1,
    eosTokenId: typeof r.eos_token_id === 'number' ? r.eos_token_id : vocabSize - 1,
    raw: r,
  };
}

export async function readGPT2Config(dir: string): Promise<GPT2Config> {
  const file = join(dir, 'config.json');
  const raw = await readModelJSON(file, 'a GPT-2 model folder needs config.json, tokenizer.json and model.safetensors', 'config.json');
  return parseGPT2Config(raw, file);
}

/** The config.json we write for models we train, in the shape Hugging Face transformers reads. */
export function toHFConfig(c: Omit<GPT2Config, 'raw'>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    vocab_size: c.vocabSize,
    n_positions: c.nPositions,
    n_ctx: c.nPositions,
    n_embd: c.dModel,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: c.dMlp,
    layer_norm_epsilon: c.layerNormEps,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
    tie_word_embeddings: c.tieWordEmbeddings,
    resid_pdrop: 0.0,
    embd_pdrop: 0.0,
    attn_pdrop: 0.0,
    torch_dtype: 'float16',
    ...extra,
  };
}
