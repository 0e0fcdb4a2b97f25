/**
 * The engine lives outside the main process, in a utility process or (WebGPU) a hidden compute window
 * (engineSpawn.ts); this module starts it, speaks the contract to it over a MessagePort and exposes the handlers
 * and events on the main side. If the host dies, pending calls fail with EngineUnavailableError and the next call
 * starts a fresh one (runs in flight are marked 'interrupted' by the store when it reopens).
 */
import type { ApiHandlers } from '../api/contract';
import { API_CHANNELS } from '../api/contract';
import type { AnyEvent } from '../engine/events';
import type { EngineProcessSettings } from '../engine/hostedEngine';
import { wireClient, type WireClient } from '../engine/rpc';
import type { SpawnedEngine } from './engineSpawn';
import { portWire } from './portWire';

export interface EngineHost {
  handlers: ApiHandlers;
  onEvent(listener: (event: AnyEvent) => void): () => void;
  /** Close the client, ask the host to close its store and go; resolves when it has (or after a grace period). */
  stop(): Promise<void>;
}

const STOP_WAIT_MS = 6000;

export function startEngineHost(settings: EngineProcessSettings, spawn: (s: EngineProcessSettings) => SpawnedEngine): EngineHost {
  const listeners = new Set<(event: AnyEvent) => void>();
  let child: SpawnedEngine | null = null;
  let client: WireClient | null = null;

  const ensure = (): WireClient => {
    if (client && child) return client;
    const spawned = spawn(settings);
    spawned.port.start();
    const c = wireClient(portWire(spawned.port));
    c.onEvent((e) => listeners.forEach((l) => l(e)));
    spawned.onExit((reason) => {
      c.close(`${reason}; the next request restarts it`);
      spawned.port.close();
      if (child === spawned) {
        child = null;
        client = null;
      }
    });
    child = spawned;
    client = c;
    return c;
  };
  ensure();

  // Each call goes to the current engine host (starting a new one if the last one died).
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
      const host = child;
      client?.close('the app is quitting');
      child = null;
      client = null;
      if (!host) return Promise.resolve();
      return new Promise<void>((resolve) => {
        host.onExit(() => resolve());
        setTimeout(resolve, STOP_WAIT_MS).unref();
        host.stop();
      });
    },
  };
}
