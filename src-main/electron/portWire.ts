/**
 * The two ends of the engine's MessagePort as `Wire`s (engine/rpc.ts), and the settings the main process
 * hands to the engine process. Shared by engineHost.ts (main) and engine-entry.ts (utility process).
 */
import type { MessagePortMain } from 'electron';
import type { RpcMessage, Wire } from '../engine/rpc';

export interface EngineProcessSettings {
  /** Experiment store file (in the app's userData folder). */
  db: string;
  /** Model to load at start, if any. */
  model?: string;
  /** tfjs backend request. */
  backend?: string;
}

export function portWire(port: MessagePortMain): Wire {
  return {
    send: (message) => port.postMessage(message),
    onMessage: (listener) => {
      const onMessage = (e: Electron.MessageEvent) => listener(e.data as RpcMessage);
      port.on('message', onMessage);
      return () => void port.off('message', onMessage);
    },
  };
}
