/**
 * The engine as a hosted service on a port: the store, the engine, the contract served on `wire`, and the start-up
 * model. One body for every host (Electron's utility process, its hidden compute window); none imports electron.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelDir } from '../model/load.js';
import { openStore } from '../store/open.js';
import { serveWire, type Wire } from './rpc.js';
import { createEngine } from './service.js';

/** What the main process hands to an engine host. */
export interface EngineProcessSettings {
  /** Experiment store file (in the app's userData folder). */
  db: string;
  /** Model to load at start, if any. */
  model?: string;
  /** tfjs backend request. */
  backend?: string;
}

export interface HostedEngine {
  /** Stop serving, close the engine (runs in flight are stopped) and the store. Idempotent. */
  shutdown(): Promise<void>;
}

export function hostEngine(settings: EngineProcessSettings, wire: Wire): HostedEngine {
  const store = openStore(settings.db);
  const engine = createEngine({ store, backend: settings.backend });
  const stopServing = serveWire(wire, engine);
  // The model asked for, else the embedded default when it has been built; the UI shows progress and failures
  // through the engine's events, so a failed start-up load is reported there, not here.
  const model = settings.model ?? (existsSync(join(defaultModelDir(), 'config.json')) ? defaultModelDir() : undefined);
  if (model) void engine.models.load(model).catch(() => undefined);
  let closing: Promise<void> | null = null;
  return {
    shutdown() {
      closing ??= (async () => {
        stopServing();
        await engine.close();
        store.close();
      })();
      return closing;
    },
  };
}
