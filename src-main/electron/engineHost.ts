/**
 * The engine lives in a utilityProcess (out/main/engine.js); this module forks it, hands it a MessagePort and
 * exposes the contract's handlers and events on the main side. If the process dies, pending calls fail with
 * EngineUnavailableError and the next call forks a fresh one (runs in flight are marked 'interrupted' by the
 * store when it reopens).
 */
import { MessageChannelMain, utilityProcess, type UtilityProcess } from 'electron';
import { join } from 'node:path';
import { API_CHANNELS, type ApiHandlers } from '../api/contract';
import type { AnyEvent } from '../engine/events';
import { wireClient, type WireClient } from '../engine/rpc';
import { portWire, type EngineProcessSettings } from './portWire';

/** Built layout: out/main/index.js (main) beside out/main/engine.js (this entry). */
const ENGINE_ENTRY = join(import.meta.dirname, 'engine.js');

export interface EngineHost {
  handlers: ApiHandlers;
  onEvent(listener: (event: AnyEvent) => void): () => void;
  stop(): void;
}

export function startEngineHost(settings: EngineProcessSettings): EngineHost {
  const listeners = new Set<(event: AnyEvent) => void>();
  let child: UtilityProcess | null = null;
  let client: WireClient | null = null;

  const ensure = (): WireClient => {
    if (client && child) return client;
    const proc = utilityProcess.fork(ENGINE_ENTRY, [], { serviceName: 'textdream engine', stdio: 'inherit' });
    const { port1, port2 } = new MessageChannelMain();
    proc.postMessage(settings, [port2]);
    port1.start();
    const c = wireClient(portWire(port1));
    c.onEvent((e) => listeners.forEach((l) => l(e)));
    proc.once('exit', (code) => {
      c.close(`the engine process exited (code ${code}); the next request restarts it`);
      port1.close();
      if (child === proc) {
        child = null;
        client = null;
      }
    });
    child = proc;
    client = c;
    return c;
  };
  ensure();

  // Each call goes to the current engine process (forking a new one if the last one died).
  const handlers = Object.fromEntries(
    API_CHANNELS.map((channel) => [channel, (req: unknown) => (ensure().handlers[channel] as (r: unknown) => Promise<unknown>)(req)]),
  ) as unknown as ApiHandlers;
  return {
    handlers,
    onEvent(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    stop() {
      client?.close('the app is quitting');
      child?.kill();
      child = null;
      client = null;
    },
  };
}
