// Settings shared by the crash test and its child process (test/helpers/storeChild.ts).
import type { ModelRef, ScanConfig } from '../../src-main/store/types.js';

export const SCAN_MODEL: ModelRef = { spec: 'planted', dir: '', fingerprint: 'planted-crash', nLayer: 2, dModel: 16, dMlp: 8 };
export const SCAN_CONFIG: ScanConfig = { layers: [0, 1], window: 8, top: 6, random: 4, maxTokens: null, seed: 11, heldOut: false, sample: 2 };

export const CHILD_MODEL: ModelRef = { spec: 'child', dir: '', fingerprint: 'child-model', nLayer: 2, dModel: 16, dMlp: 8 };
export const CHILD_DREAMS = 6;
export const CHILD_TOKENS = 40;
