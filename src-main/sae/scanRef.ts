// What a scan of an SAE's latents records about the SAE: the name the user gave, a fingerprint of its files (so a
// retrained SAE is another scan), the hook it encodes and its width.
import { join } from 'node:path';
import { fingerprintFiles } from '../store/persist.js';
import type { ScanSae } from '../store/types.js';
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
