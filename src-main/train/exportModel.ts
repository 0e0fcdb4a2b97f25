// Write a model in Hugging Face layout: config.json, model.safetensors (F16 by default), tokenizer files.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GPT2 } from '../model/gpt2.js';
import { toHFConfig } from '../model/config.js';
import { gpt2TokenizerJSON, GPT2_TOKENIZER_CONFIG } from '../model/gpt2Tokenizer.js';
import { writeSafetensorsFile } from '../model/safetensors.js';
import { namedWeights } from '../model/weights.js';

async function writeJSON(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(value, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
}

export async function exportHFModel(model: GPT2, dir: string, dtype: 'F16' | 'F32' = 'F16', extraConfig: Record<string, unknown> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors = [];
  for (const [name, t] of namedWeights(model.weights)) {
    tensors.push({ name, shape: t.shape, data: (await t.data()) as Float32Array, dtype });
  }
  await writeSafetensorsFile(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await writeJSON(join(dir, 'config.json'), toHFConfig(model.config, { torch_dtype: dtype === 'F16' ? 'float16' : 'float32', ...extraConfig }));
  await writeJSON(join(dir, 'tokenizer.json'), gpt2TokenizerJSON());
  await writeJSON(join(dir, 'tokenizer_config.json'), GPT2_TOKENIZER_CONFIG);
}
