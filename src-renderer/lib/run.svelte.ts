/**
 * Follows one dream run: its settings, every step record, its status and result. Live records arrive as
 * `dream.step` events; whenever the picture may have a gap (attaching to a run, a skipped index, the event
 * stream reconnecting) it re-fetches the whole run with `dreams.get`, so a reconnecting page catches up with
 * a run that went on in the engine meanwhile.
 */
import type { DreamOutcome, DreamSettings, DreamStep, RunDetail, RunStatus } from '../../src-main/api/contract';
import type { ApiClient } from './api';

export class RunTracker {
  runId: string | null = $state(null);
  detail: RunDetail | null = $state.raw(null);
  records: DreamStep[] = $state.raw([]);
  status: RunStatus | null = $state(null);
  result: DreamOutcome | null = $state.raw(null);
  error: string | null = $state(null);
  /** Live updates received by this page for the current run (tests and the UI's counter). */
  liveUpdates = $state(0);
  private readonly offs: (() => void)[] = [];

  constructor(private readonly api: ApiClient) {
    this.offs.push(
      api.on('dream.step', ({ runId, index, record }) => {
        if (runId !== this.runId) return;
        this.liveUpdates += 1;
        if (index === this.records.length) this.records = [...this.records, record];
        else if (index > this.records.length) void this.resync();
      }),
      api.on('dream.ended', ({ runId, status, result, error }) => {
        if (runId !== this.runId) return;
        this.status = status;
        this.result = result;
        this.error = error;
        void this.resync();
      }),
      api.onConnection((connected) => {
        if (connected) void this.resync();
      }),
    );
  }

  get config(): DreamSettings | null {
    return this.detail?.config ?? null;
  }

  get running(): boolean {
    return this.status === 'running';
  }

  async attach(runId: string): Promise<void> {
    this.runId = runId;
    this.detail = null;
    this.records = [];
    this.status = 'running';
    this.result = null;
    this.error = null;
    this.liveUpdates = 0;
    await this.resync();
  }

  async resync(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    const d = await this.api.invoke('dreams.get', { runId });
    if (runId !== this.runId) return;
    this.detail = d;
    if (d.records.length >= this.records.length) this.records = d.records;
    this.status = d.status;
    this.result = d.result;
    this.error = d.error;
  }

  async stop(): Promise<void> {
    if (this.runId) await this.api.invoke('dreams.stop', { runId: this.runId });
  }

  dispose(): void {
    this.offs.forEach((off) => off());
  }
}
