/**
 * App-wide state shared by the views (Svelte 5 runes): which view is open, the model, the neuron picked in the
 * browser, long-running tasks with their progress, and whether the event stream is connected.
 */
import type { ApiClient } from './api';
import type { ModelsState, ProgressEvent } from '../../src-main/api/contract';

export const VIEWS = ['models', 'neurons', 'dream', 'mnist', 'explain', 'history'] as const;
export type View = (typeof VIEWS)[number];

export interface TaskState {
  id: string;
  label: string;
  done: number;
  total: number | null;
  detail?: string;
  status: 'running' | 'done' | 'cancelled' | 'error';
  error?: string;
}

export const app = $state({
  view: 'models' as View,
  models: null as ModelsState | null,
  connected: true,
  tasks: [] as TaskState[],
  /** The neuron (or, with `sae`, the SAE latent `neuron`) picked in the browser; the dream panel starts from it. */
  selection: { layer: 0, neuron: 0 } as { layer: number; neuron: number; sae?: string },
  /** A run the history asked the dream panel to reopen. */
  reopen: null as string | null,
});

function applyProgress(e: ProgressEvent): void {
  const i = app.tasks.findIndex((t) => t.id === e.task);
  if (e.type === 'initiate') {
    app.tasks = [...app.tasks.filter((t) => t.status === 'running'), { id: e.task, label: e.label, done: 0, total: null, status: 'running' }];
    return;
  }
  if (i < 0) return;
  const t = app.tasks[i];
  if (e.type === 'progress') Object.assign(t, { done: e.done, total: e.total, detail: e.detail });
  else if (e.type === 'done') t.status = 'done';
  else if (e.type === 'cancelled') t.status = 'cancelled';
  else {
    t.status = 'error';
    t.error = `${e.error.name}: ${e.error.message}`;
  }
}

export async function refreshModels(api: ApiClient): Promise<void> {
  app.models = await api.invoke('models.state', undefined);
}

/** Subscribe the shared state to the engine; returns the unsubscriber. */
export function connectAppState(api: ApiClient): () => void {
  const offs = [
    api.on('models.changed', (state) => (app.models = state)),
    api.on('progress', applyProgress),
    api.onConnection((connected) => {
      app.connected = connected;
      if (connected) void refreshModels(api).catch(() => undefined);
    }),
  ];
  void refreshModels(api).catch(() => undefined);
  return () => offs.forEach((off) => off());
}

/** `Name: message` for any thrown value. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
