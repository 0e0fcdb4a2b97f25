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

export type ApiClient = TextdreamBridge;

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
  let listeners = 0;

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

  function on<E extends keyof ApiEvents>(event: E, cb: (payload: ApiEvents[E]) => void): () => void {
    if (!isApiEventName(event)) {
      throw fromApiError({ name: 'UnknownEventError', message: `unknown API event: ${String(event)}` });
    }
    source ??= openEvents(`${base}${HTTP_EVENTS_PATH}`);
    const current = source;
    const listener = (message: MessageEvent<string>): void => cb(JSON.parse(message.data) as ApiEvents[E]);
    current.addEventListener(event, listener);
    listeners += 1;
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      current.removeEventListener(event, listener);
      listeners -= 1;
      if (listeners === 0 && source === current) {
        current.close();
        source = null;
      }
    };
  }

  return { invoke, on };
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
