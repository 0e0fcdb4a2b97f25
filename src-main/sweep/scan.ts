// The corpus scan a sweep's jobs read their records from: one pass over every layer of the model, made (or resumed)
// by the first job that needs it, as `textdream scan` makes it, and found again by every later job.
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { loadScanCorpus } from '../scan/corpus.js';
import { DEFAULT_SCAN, runScan, type ScanEvent } from '../scan/run.js';
import type { ModelRef, ScanConfig, ScanSummary, ScanWriter } from '../store/types.js';
import { openSae } from '../dream/run.js';
import type { Sae } from '../sae/load.js';
import { saeFingerprint } from '../sae/scanRef.js';
import { SweepAbortedError, SweepInputError } from './errors.js';
import { saeLayer } from './jobs.js';
import type { SweepSettings } from './types.js';

export interface ScanSource {
  /** The completed scan for these settings, scanning (or resuming) first when there is none. */
  ensure(settings: SweepSettings['scan'], signal?: AbortSignal): Promise<ScanSummary>;
}

export interface ScanSourceOptions {
  model: GPT2;
  tokenizer: TextTokenizer;
  modelRef: ModelRef;
  store: ScanWriter;
  /** Windows per forward pass (does not change the results). */
  batch?: number;
  /** Where an SAE sweep's SAE is found (`L2.resid_pre` beside the model; hub folders through env). */
  modelDir?: string;
  env?: NodeJS.ProcessEnv;
  /** The scan's own events (plan, progress, done) and the settings being scanned, for a progress display. */
  onEvent?: (e: ScanEvent, settings: SweepSettings['scan']) => void;
}

/** The scan config a sweep's settings stand for: every layer of the model, or an SAE's latents. */
export function sweepScanConfig(s: SweepSettings['scan'], nLayer: number): ScanConfig {
  const base = { window: s.window, top: s.top, random: s.random, maxTokens: s.maxTokens, seed: s.seed, heldOut: s.heldOut, sample: s.sample };
  if (s.sae) return { ...base, layers: [saeLayer(s.sae)], sae: s.sae };
  return { ...base, layers: [...Array(nLayer).keys()] };
}

/** The SAE a scan's settings name, loaded, and checked to be the one the settings were made with. */
async function settingsSae(o: ScanSourceOptions, s: NonNullable<SweepSettings['scan']['sae']>): Promise<Sae> {
  const sae = await openSae({ model: o.model, modelDir: o.modelDir, env: o.env }, s.spec);
  if (saeFingerprint(sae.dir) !== s.fingerprint) {
    sae.dispose();
    throw new SweepInputError(`the SAE ${s.spec} changed since this sweep's settings were made (fingerprint ${s.fingerprint}): run the sweep again to make new settings`);
  }
  return sae;
}

export function scanSource(o: ScanSourceOptions): ScanSource {
  // Completed scans never change, so one lookup per settings serves every later job of this process.
  const done = new Map<string, ScanSummary>();
  return {
    async ensure(settings, signal) {
      const key = JSON.stringify(settings);
      const known = done.get(key);
      if (known) return known;
      const corpus = await loadScanCorpus(settings.corpus, settings.heldOut);
      const config = sweepScanConfig(settings, o.model.config.nLayer);
      let final: ScanSummary | null = null;
      const sae = settings.sae ? await settingsSae(o, settings.sae) : undefined;
      try {
        const events = runScan({ model: o.model, tokenizer: o.tokenizer, modelRef: o.modelRef, corpus, config, batch: o.batch ?? DEFAULT_SCAN.batch, store: o.store, sae, signal });
        for await (const e of events) {
          o.onEvent?.(e, settings);
          if (e.type === 'done') final = e.scan;
        }
      } finally {
        sae?.dispose();
      }
      if (!final) throw new Error('the scan ended without a summary');
      if (final.status !== 'completed') {
        if (signal?.aborted) throw new SweepAbortedError(`the corpus scan stopped at ${final.tokensDone}/${final.tokensTotal} tokens (it resumes on the next run)`);
        throw new Error(`the corpus scan ${final.id} ended ${final.status}${final.error ? `: ${final.error}` : ''}`);
      }
      done.set(key, final);
      return final;
    },
  };
}
