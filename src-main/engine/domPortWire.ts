/**
 * A `Wire` over a DOM-style MessagePort (addEventListener / postMessage / start): the port an Electron renderer
 * (the hidden compute window) receives, and Node's global MessageChannel, on which it is tested.
 */
import type { RpcMessage, Wire } from './rpc.js';

export interface DomPortLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start(): void;
}

/** Messages queue on the port until `start()`, which the host calls once it listens. */
export function domPortWire(port: DomPortLike): Wire {
  return {
    send: (message) => port.postMessage(message),
    onMessage: (listener) => {
      const onMessage = (event: { data: unknown }) => listener(event.data as RpcMessage);
      port.addEventListener('message', onMessage);
      return () => port.removeEventListener('message', onMessage);
    },
  };
}
