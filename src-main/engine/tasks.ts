// Long work that the UI shows and may cancel (a model download, a corpus scan): each task has an id, reports
// `progress` events and owns an AbortController that `tasks.cancel` trips.
import type { ProgressEvent } from '../api/contract.js';
import { toApiError } from '../api/contract.js';
import type { EventHub } from './events.js';

export interface Task {
  id: string;
  signal: AbortSignal;
  progress(done: number, total: number | null, detail?: string): void;
  /** Ends the task: `done`, `cancelled` (when its signal was aborted) or `error`. */
  finish(error?: unknown): void;
}

export class TaskRegistry {
  private next = 0;
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly events: EventHub) {}

  begin(kind: string, label: string): Task {
    const id = `${kind}:${++this.next}`;
    const controller = new AbortController();
    this.running.set(id, controller);
    const emit = (e: ProgressEvent) => this.events.publish('progress', e);
    emit({ type: 'initiate', task: id, label });
    let ended = false;
    return {
      id,
      signal: controller.signal,
      progress: (done, total, detail) => {
        if (!ended) emit({ type: 'progress', task: id, done, total, ...(detail ? { detail } : {}) });
      },
      finish: (error?: unknown) => {
        if (ended) return;
        ended = true;
        this.running.delete(id);
        if (controller.signal.aborted) emit({ type: 'cancelled', task: id });
        else if (error !== undefined) emit({ type: 'error', task: id, error: toApiError(error) });
        else emit({ type: 'done', task: id });
      },
    };
  }

  cancel(id: string): boolean {
    const controller = this.running.get(id);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  cancelAll(): void {
    for (const c of this.running.values()) c.abort();
  }
}
