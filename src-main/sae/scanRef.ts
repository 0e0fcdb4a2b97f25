// What a scan of an SAE's latents records about the SAE: the name the user gave, a fingerprint of its files (so a
// retrained SAE is another scan), the hook it encodes and its width.
import { join } from 'node:path';
import { fingerprintFiles } from '../store/persist.js';
import type { ScanSae } from '../store/types.js';
import { readModelJSON } from '../model/errors.js';
import { parseSaeConfig } from './config.js';
import { SAE_CFG_FILE, SAE_SCALER_FILE, SAE_WEIGHTS_FILE, type Sae } from './load.js';

/** A content fingerprint of an SAE folder's files (read, not loaded). */
export function saeFingerprint(dir: string): string {
  return fingerprintFiles(dir, [join(dir, SAE_WEIGHTS_FILE)], [SAE_CFG_FILE, SAE_SCALER_FILE]);
}

export function saeScanRef(spec: string, sae: Sae): ScanSae {
  return {
    spec,
    fingerprint: saeFingerprint(sae.dir),
    hook: sae.config.hook.name,
    latents: sae.config.dSae,
  };
}

/** The same from the folder's files alone (cfg.json read, weights fingerprinted, nothing loaded). */
export async function readSaeScanRef(spec: string, dir: string): Promise<ScanSae> {
  const cfgFile = join(dir, SAE_CFG_FILE);
  const c = parseSaeConfig(await readModelJSON(cfgFile, `an SAELens SAE folder holds ${SAE_CFG_FILE} and ${SAE_WEIGHTS_FILE}`, SAE_CFG_FILE), cfgFile);
  return { spec, fingerprint: saeFingerprint(dir), hook: c.hook.name, latents: c.dSae };
}
