/**
 * The renderer's API client. Same interface in both places the UI runs:
 * - in the Electron window it wraps the preload bridge (`window.textdream`);
 * - served over HTTP (browser UI) it calls `POST /api/<channel>` and listens to SSE on `/api/events`.
 * Errors are re-thrown as `Error`s carrying the remote error's `name` either way.
 */
import {
  HTTP_API_PREFIX,
  HTTP_EVENTS_PATH,
  decodeBridgeError,
  fromApiError,
  isApiChannel,
  isApiEventName,
  unwrapEnvelope,
  type ApiEnvelope,
  type ApiEvents,
  type ApiRequests,
  type TextdreamBridge,
} from '../../src-main/api/contract';

/** The contract (invoke, on) plus the connection's state, which only the HTTP transport can lose. */
export interface ApiClient extends TextdreamBridge {
  /**
   * Called with `false` when the event stream drops and `true` when it is back. After a reconnect a view
   * re-fetches what it shows (e.g. `dreams.get` for a live run): events sent while away may be gone.
   */
  onConnection(cb: (connected: boolean) => void): () => void;
}

/** Electron: delegate to the preload bridge, restoring error names the context bridge drops. */
export function bridgeClient(bridge: TextdreamBridge): ApiClient {
  return {
    async invoke<K extends keyof ApiRequests>(channel: K, req: ApiRequests[K]['req']) {
      try {
        return await bridge.invoke(channel, req);
      } catch (thrown) {
        throw decodeBridgeError(thrown);
      }
    },
    on: (event, cb) => bridge.on(event, cb),
    // IPC does not drop; the engine process restarting shows up as failing calls instead.
    onConnection: () => () => {},
  };
}

export interface HttpClientOptions {
  /** Origin (and optional path prefix) of the server; '' for the page's own origin. */
  base?: string;
  fetch?: typeof fetch;
  /** Factory for the SSE connection (tests inject a fake). */
  eventSource?: (url: string) => EventSource;
}

/** Browser: JSON over HTTP, each reply an `ApiEnvelope`. */
export function httpClient(options: HttpClientOptions = {}): ApiClient {
  const base = options.base ?? '';
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const openEvents = options.eventSource ?? ((url) => new EventSource(url));
  let source: EventSource | null = null;
  const connectionListeners = new Set<(connected: boolean) => void>();
  let connected = true;
  const setConnected = (value: boolean) => {
    if (value === connected) return;
    connected = value;
    for (const cb of [...connectionListeners]) cb(value);
  };

  async function invoke<K extends keyof ApiRequests>(
    channel: K,
    req: ApiRequests[K]['req'],
  ): Promise<ApiRequests[K]['res']> {
    if (!isApiChannel(channel)) {
      throw fromApiError({ name: 'UnknownChannelError', message: `unknown API channel: ${String(channel)}` });
    }
    const url = `${base}${HTTP_API_PREFIX}${channel}`;
    const response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req ?? null),
    });
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw fromApiError({ name: 'ProtocolError', message: `${url} answered HTTP ${response.status} without a JSON envelope` });
    }
    return unwrapEnvelope(body as ApiEnvelope<ApiRequests[K]['res']>);
  }

  type Registration = { event: string; listener: (message: MessageEvent<string>) => void };
  const registrations = new Set<Registration>();
  let reopenTimer: ReturnType<typeof setTimeout> | null = null;

  // EventSource reconnects by itself after a network error (sending Last-Event-ID); after an HTTP error it
  // gives up (readyState CLOSED), so we open a fresh one a little later. Either way views hear about the gap.
  function open(): EventSource {
    const opened = openEvents(`${base}${HTTP_EVENTS_PATH}`);
    // Every open is announced, the first included: events sent before the stream was up (a model that finished
    // loading between the page's first fetch and this moment) are gone, so listeners re-fetch what they show.
    opened.addEventListener('open', () => {
      connected = true;
      for (const cb of [...connectionListeners]) cb(true);
    });
    opened.addEventListener('error', () => {
      setConnected(false);
      if (opened.readyState === 2 && source === opened && reopenTimer === null) {
        reopenTimer = setTimeout(() => {
          reopenTimer = null;
          if (source !== opened) return;
          source = open();
        }, 2000);
      }
    });
    for (const r of registrations) opened.addEventListener(r.event, r.listener as EventListener);
    return opened;
  }

  function on<E extends keyof ApiEvents>(event: E, cb: (payload: ApiEvents[E]) => void): () => void {
    if (!isApiEventName(event)) {
      throw fromApiError({ name: 'UnknownEventError', message: `unknown API event: ${String(event)}` });
    }
    const registration: Registration = { event, listener: (message) => cb(JSON.parse(message.data) as ApiEvents[E]) };
    registrations.add(registration);
    if (source) source.addEventListener(event, registration.listener as EventListener);
    else source = open();
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      registrations.delete(registration);
      source?.removeEventListener(event, registration.listener as EventListener);
      if (registrations.size === 0 && source) {
        source.close();
        source = null;
      }
    };
  }

  function onConnection(cb: (connected: boolean) => void): () => void {
    connectionListeners.add(cb);
    return () => void connectionListeners.delete(cb);
  }

  return { invoke, on, onConnection };
}

/** Where the preload puts the bridge (`window.textdream` in the Electron window). */
export interface BridgeHost {
  textdream?: TextdreamBridge;
}

/** The bridge when the preload exposed one, HTTP otherwise. */
export function createApiClient(host: BridgeHost = window as Window & BridgeHost): ApiClient {
  return host.textdream ? bridgeClient(host.textdream) : httpClient();
}

let shared: ApiClient | null = null;

/** The page's client, created on first use. */
export function getApi(): ApiClient {
  shared ??= createApiClient();
  return shared;
}
