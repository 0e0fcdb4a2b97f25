// The contract over a message port: calls, envelope replies and pushed events, as plain structured-clone data.
// Transport-agnostic: Electron's MessagePortMain / parentPort, Node's worker_threads ports and tests adapt to
// `Wire` in a line. `serveWire` puts an engine behind a port; `wireClient` gives back the same ApiHandlers
// (errors re-thrown with their names) and the engine's events on the far side.
import {
  API_CHANNELS,
  fromApiError,
  settle,
  type ApiChannel,
  type ApiEnvelope,
  type ApiHandlers,
  type ApiRequest,
  type ApiResponse,
} from '../api/contract.js';
import type { AnyEvent } from './events.js';
import type { Engine } from './service.js';

export type RpcMessage =
  | { t: 'call'; id: number; channel: ApiChannel; req: unknown }
  | { t: 'reply'; id: number; envelope: ApiEnvelope<unknown> }
  | { t: 'event'; event: AnyEvent };

export interface Wire {
  send(message: RpcMessage): void;
  /** Returns a function that stops listening. */
  onMessage(listener: (message: RpcMessage) => void): () => void;
}

export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
}

/** Answer calls arriving on `wire` with the engine's handlers and push every engine event down it. */
export function serveWire(wire: Wire, engine: Pick<Engine, 'handlers' | 'events'>): () => void {
  const call = <K extends ApiChannel>(channel: K, req: ApiRequest<K>) => {
    const handler: ApiHandlers[K] = engine.handlers[channel];
    return settle(() => handler(req));
  };
  const stopCalls = wire.onMessage((m) => {
    if (m.t !== 'call') return;
    const known = (API_CHANNELS as readonly string[]).includes(m.channel);
    const reply = known
      ? call(m.channel, m.req as ApiRequest<typeof m.channel>)
      : Promise.resolve({ error: { name: 'UnknownChannelError', message: `unknown API channel: ${String(m.channel)}` } });
    void reply.then((envelope) => wire.send({ t: 'reply', id: m.id, envelope }));
  });
  const stopEvents = engine.events.subscribe((event) => wire.send({ t: 'event', event }));
  return () => {
    stopCalls();
    stopEvents();
  };
}

export interface WireClient {
  handlers: ApiHandlers;
  onEvent(listener: (event: AnyEvent) => void): () => void;
  /** Fail every pending call (the far side is gone) and stop listening. */
  close(reason: string): void;
}

export function wireClient(wire: Wire): WireClient {
  let next = 0;
  let closed: string | null = null;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(event: AnyEvent) => void>();
  const stop = wire.onMessage((m) => {
    if (m.t === 'reply') {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if ('error' in m.envelope) p.reject(fromApiError(m.envelope.error));
      else p.resolve(m.envelope.result);
    } else if (m.t === 'event') {
      for (const l of [...listeners]) l(m.event);
    }
  });

  function call<K extends ApiChannel>(channel: K, req: ApiRequest<K>): Promise<ApiResponse<K>> {
    if (closed !== null) return Promise.reject(new EngineUnavailableError(closed));
    const id = ++next;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      wire.send({ t: 'call', id, channel, req });
    });
  }

  const handlers = Object.fromEntries(API_CHANNELS.map((channel) => [channel, (req: unknown) => call(channel, req as never)])) as ApiHandlers;
  return {
    handlers,
    onEvent(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close(reason) {
      closed = reason;
      stop();
      for (const p of pending.values()) p.reject(new EngineUnavailableError(reason));
      pending.clear();
    },
  };
}
