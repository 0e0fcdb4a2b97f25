// A model's identity without its weights in memory: its folder, its config and the same content fingerprint
// modelRefOf gives a loaded model. `sweep --status` needs only this, so it starts no backend and loads no weights.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readGPT2Config, type GPT2Config } from '../model/config.js';
import { ModelFileError } from '../model/errors.js';
import { resolveModel, type HubOptions } from '../model/hub.js';
import { fingerprintFiles, weightFilesIn } from '../store/persist.js';
import { settingsFromEnv } from '../environment.js';

export interface ModelIdentity {
  dir: string;
  config: GPT2Config;
  fingerprint: string;
}

export async function modelIdentity(spec: string, opts: HubOptions = {}): Promise<ModelIdentity> {
  // As loadModel resolves a spec: a path (or anything that exists here) is a folder, else a hub id.
  const looksLocal = spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('~') || existsSync(spec);
  const { dir } = await resolveModel(looksLocal ? resolve(spec.replace(/^~(?=\/)/, settingsFromEnv().home ?? '~')) : spec, opts);
  const config = await readGPT2Config(dir);
  const files = weightFilesIn(dir);
  if (!files.length) throw new ModelFileError('no model.safetensors or model.safetensors.index.json in this folder', dir, 'pass --model with a folder holding the model the sweep ran on');
  return { dir, config, fingerprint: fingerprintFiles(dir, files) };
}
