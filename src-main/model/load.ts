// Load a GPT-2 from a folder, the Hugging Face cache or the hub: config, tokenizer and weights, all checked.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readGPT2Config, type GPT2Config } from './config.js';
import { GPT2 } from './gpt2.js';
import { resolveModel, type HubOptions, type ResolvedModel } from './hub.js';
import { readCheckpointTensors, type SafeDtype } from './safetensors.js';
import { readTokenizer, type TextTokenizer } from './tokenizer.js';
import { buildWeights, checkCheckpoint, isBufferKey, type WeightOptions } from './weights.js';
import { settingsFromEnv } from '../environment.js';

/** The repository root, found from this file (works from src-main/ under tsx and from out/ when bundled). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"textdream"/.test(readFileSync(pkg, 'utf8'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The embedded default model, trained here on English text and shipped in resources/. */
export const DEFAULT_MODEL_NAME = 'textdream-gpt2-small';
/** Shipped resources: the repository's `resources/`, or TEXTDREAM_RESOURCES (a packaged app's resources path). */
export function resourcesDir(env: NodeJS.ProcessEnv = process.env): string {
  return settingsFromEnv(env).resources ?? join(projectRoot(), 'resources');
}

export function defaultModelDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(resourcesDir(env), 'models', DEFAULT_MODEL_NAME);
}

/** `--model` value, else TEXTDREAM_MODEL, else the embedded default. */
export function modelSpec(flag?: string): string {
  return flag || settingsFromEnv().model || defaultModelDir();
}

export interface LoadedModel {
  model: GPT2;
  config: GPT2Config;
  tokenizer: TextTokenizer;
  source: ResolvedModel;
  /** Storage dtypes seen in the checkpoint. */
  dtypes: SafeDtype[];
  files: string[];
  parameters: number;
  /** Checkpoint tensors we did not use (reported, not fatal). */
  unexpected: string[];
}

export async function loadModel(spec: string, opts: HubOptions & WeightOptions = {}): Promise<LoadedModel> {
  const looksLocal = spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('~') || existsSync(spec);
  const source = await resolveModel(looksLocal ? resolve(spec.replace(/^~(?=\/)/, settingsFromEnv().home ?? '~')) : spec, opts);
  const config = await readGPT2Config(source.dir);
  const tokenizer = await readTokenizer(source.dir, config.vocabSize);
  const stripped = (k: string) => (k.startsWith('transformer.') ? k.slice(12) : k);
  const { tensors, files } = await readCheckpointTensors(source.dir, { skip: (k) => isBufferKey(stripped(k)) });
  const label = files.length === 1 ? files[0] : join(source.dir, 'model.safetensors.index.json');
  const { byKey, unexpected } = checkCheckpoint(tensors, config, label);
  const weights = buildWeights(byKey, config, opts);
  const dtypes = [...new Set([...byKey.values()].map((t) => t.dtype))];
  let parameters = 0;
  for (const [k, t] of byKey) if (k !== 'lm_head.weight' || !config.tieWordEmbeddings) parameters += t.data.length;
  return { model: new GPT2(config, weights), config, tokenizer, source, dtypes, files, parameters, unexpected };
}
