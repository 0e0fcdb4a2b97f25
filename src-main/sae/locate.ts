// Where an SAE's files are: a local folder, or a folder of a Hugging Face repo (`org/name/sub/folder`, as SAELens
// releases lay theirs out, e.g. one folder per hook), from the hub cache or downloaded into it by the same code as
// models (model/hub.ts).
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ModelFileError } from '../model/errors.js';
import { expandHome, isHubNamePart, looksLikePath, resolveHubFiles, type HubFilePlan, type HubOptions } from '../model/hub.js';
import { SAE_CFG_FILE, SAE_SCALER_FILE, SAE_WEIGHTS_FILE } from './load.js';

const LOCAL_FIX = `or pass a local folder holding ${SAE_CFG_FILE} and ${SAE_WEIGHTS_FILE}`;

export interface SaeLocation {
  dir: string;
  source: 'folder' | 'cache' | 'download';
  /** The hub repo and its subfolder, when it came from the hub. */
  repo?: string;
  subfolder?: string;
  revision?: string;
}

/** The files an SAELens SAE folder holds, at `sub` inside a repo ('' = the repo's top level). */
function saeFiles(sub: string): HubFilePlan {
  const at = (f: string) => (sub ? `${sub}/${f}` : f);
  const has = async (p: string) => (await stat(p).catch(() => null))?.isFile() ?? false;
  return {
    what: 'SAE',
    localFix: LOCAL_FIX,
    async fetch(get) {
      await get(at(SAE_CFG_FILE), 'required');
      await get(at(SAE_WEIGHTS_FILE), 'required');
      await get(at(SAE_SCALER_FILE), 'optional');
    },
    async complete(dir) {
      return (await has(join(dir, at(SAE_CFG_FILE)))) && has(join(dir, at(SAE_WEIGHTS_FILE)));
    },
  };
}

/** A local SAE folder as given, else `org/name[/sub/folder]` on the hub (cache first); anything else fails naming the fix. */
export async function locateSae(where: string, opts: HubOptions = {}): Promise<SaeLocation> {
  const path = resolve(expandHome(where));
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory()) return { dir: path, source: 'folder' };
  if (info) throw new ModelFileError('is a file, not an SAE folder', path, `pass the folder that holds ${SAE_CFG_FILE} and ${SAE_WEIGHTS_FILE}`);
  if (looksLikePath(where)) {
    throw new ModelFileError('SAE folder does not exist', path, 'check the path after sae:');
  }
  const parts = where.split('/');
  if (parts.length < 2 || !parts.every(isHubNamePart)) {
    throw new ModelFileError(
      'is neither an existing folder nor a Hugging Face SAE (org/name or org/name/sub/folder)',
      where,
      `name a local SAE folder, or a hub repo and the folder inside it that holds ${SAE_CFG_FILE}, e.g. "org/gpt2-saes/blocks.2.hook_resid_pre"`,
    );
  }
  const repo = parts.slice(0, 2).join('/');
  const subfolder = parts.slice(2).join('/');
  const r = await resolveHubFiles(repo, saeFiles(subfolder), opts);
  return { dir: subfolder ? join(r.dir, subfolder) : r.dir, source: r.source, repo, subfolder, ...(r.revision ? { revision: r.revision } : {}) };
}
