/**
 * Entry of the engine's utility process (out/main/engine.js): tfjs, the model, dreams and the store run
 * here, never on Electron's main thread. The main process sends one message carrying the settings and a
 * MessagePort; the contract then runs over that port (engine/rpc.ts).
 */
import type { MessagePortMain } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelDir } from '../model/load';
import { serveWire } from '../engine/rpc';
import { createEngine } from '../engine/service';
import { openExperimentStore } from '../server/store';
import { portWire, type EngineProcessSettings } from './portWire';

function start(settings: EngineProcessSettings, port: MessagePortMain): void {
  const { store, scans, history } = openExperimentStore(settings.db);
  const engine = createEngine({ store, scans, history, backend: settings.backend });
  serveWire(portWire(port), engine);
  port.start();
  // The model asked for, else the embedded default when it has been built; the UI shows progress and failures.
  const model = settings.model ?? (existsSync(join(defaultModelDir(), 'config.json')) ? defaultModelDir() : undefined);
  if (model) void engine.models.load(model).catch(() => undefined);
  const shutdown = async () => {
    await engine.close();
    store.close();
    process.exit(0);
  };
  port.on('close', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

process.parentPort.once('message', (e) => {
  const [port] = e.ports;
  if (!port) throw new Error('engine process: the first message must carry a MessagePort');
  start(e.data as EngineProcessSettings, port);
});
