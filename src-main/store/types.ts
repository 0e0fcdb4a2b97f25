// The experiment store's contract: what the engine, the CLI, the server and the Electron shell may ask of it.
// One implementation (SQLite, src-main/store/sqlite.ts); this file has no dependencies so every layer can import it.
import type { DreamConfig } from '../dream/config.js';
import type { DreamResult, StepRecord } from '../dream/loop.js';

export type RunStatus = 'running' | 'completed' | 'aborted' | 'interrupted' | 'failed';

export interface ModelRef {
  /** What the user passed (--model), e.g. a folder or a hub id. */
  spec: string;
  /** Resolved folder and a content fingerprint, so runs on different weights never mix. */
  dir: string;
  fingerprint: string;
  nLayer: number;
  dModel: number;
  dMlp: number;
}

export interface DreamRunSummary {
  id: string;
  kind: 'dream';
  model: string; // ModelRef.spec
  target: string; // e.g. L2N104
  layer: number | null;
  neuron: number | null;
  method: string;
  status: RunStatus;
  createdAt: string; // ISO
  finishedAt: string | null;
  steps: number;
  bestText: string | null;
  bestValue: number | null;
  bestCE: number | null;
}

export interface DreamRunDetail extends DreamRunSummary {
  config: DreamConfig;
  records: StepRecord[];
  result: DreamResult | null;
  error: string | null;
}

export interface ExperimentStore {
  readonly path: string;
  /** Every run left 'running' by a dead process becomes 'interrupted' when the store opens. */
  startDreamRun(model: ModelRef, config: DreamConfig): string;
  appendDreamStep(runId: string, record: StepRecord): void;
  finishDreamRun(runId: string, status: Exclude<RunStatus, 'running' | 'interrupted'>, result: DreamResult | null, error?: string): void;
  listRuns(opts?: { search?: string; layer?: number; neuron?: number; limit?: number }): DreamRunSummary[];
  getDreamRun(id: string): DreamRunDetail | null;
  close(): void;
}
