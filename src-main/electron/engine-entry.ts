/**
 * Entry of the engine's utility process (out/main/engine.js), the host for the CPU backends (tensorflow, wasm,
 * cpu): tfjs, the model, dreams and the store run here, never on Electron's main thread. The main process sends
 * one message carrying the settings and a MessagePort; the contract then runs over that port (engine/rpc.ts).
 */
import type { MessagePortMain } from 'electron';
import { hostEngine, type EngineProcessSettings } from '../engine/hostedEngine';
import { portWire } from './portWire';

function start(settings: EngineProcessSettings, port: MessagePortMain): void {
  const hosted = hostEngine(settings, portWire(port));
  port.start();
  const shutdown = async () => {
    await hosted.shutdown();
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
