/**
 * The main process's end of an engine port (MessagePortMain) as a `Wire` (engine/rpc.ts). Used by engineHost.ts
 * for both hosts, and by engine-entry.ts (the utility process's end is a MessagePortMain too).
 */
import type { MessagePortMain } from 'electron';
import type { RpcMessage, Wire } from '../engine/rpc';

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
