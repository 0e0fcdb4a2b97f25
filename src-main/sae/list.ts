// The SAEs a model folder carries under saes/ (where train-sae writes), for pickers: how each is named in an
// objective, what it reads and how wide it is. Only cfg.json is read; weights load when a dream starts.
import { readdir } from 'node:fs/promises';
import type { SaeChoice } from '../api/wire.js';
import { join } from 'node:path';
import { readModelJSON } from '../model/errors.js';
import { SAE_SITES } from './activations.js';
import { parseSaeConfig } from './config.js';
import { SAE_CFG_FILE } from './load.js';

/** The wire's SaeChoice (api/wire.ts) is this listing: declared there so the renderer can read it. */
export type SaeListing = SaeChoice;

export async function listModelSaes(modelDir: string): Promise<SaeListing[]> {
  const root = join(modelDir, 'saes');
  const entries = await readdir(root, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  const out: SaeListing[] = [];
  for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = join(root, e.name);
    const cfgFile = join(dir, SAE_CFG_FILE);
    try {
      const c = parseSaeConfig(await readModelJSON(cfgFile, `an SAELens SAE folder holds ${SAE_CFG_FILE}`, SAE_CFG_FILE), cfgFile);
      const site = c.hook.site.replace(/^hook_/, '');
      // sae:L<layer>.<site> resolves to saes/<hook name>: only then is the short name this folder's.
      const short = (SAE_SITES as readonly string[]).includes(site) && e.name === c.hook.name ? `L${c.hook.layer}.${site}` : dir;
      out.push({ where: short, dir, hook: c.hook.name, dSae: c.dSae, architecture: c.architecture });
    } catch (err) {
      out.push({ where: dir, dir, hook: '', dSae: 0, architecture: '', error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}
