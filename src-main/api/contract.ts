/**
 * The one contract between the UI and the engine host.
 *
 * Every request channel and every event the renderer can see is declared here, once. Main (ipc),
 * preload (bridge), renderer (client) and, later, the HTTP server all import this file; the runtime
 * lists `API_CHANNELS` / `API_EVENTS` are what the preload checks against, so nothing outside them
 * can cross the bridge.
 *
 * This file must stay dependency-free (no `electron`, no `node:` imports, no engine code): it is
 * bundled into the sandboxed preload and into the browser renderer.
 *
 * To add a channel: add it to `ApiRequests` and to `API_CHANNELS` (the compiler fails until both
 * agree), then give it a handler in the main process's handler map (also checked by the compiler).
 */

/** Request/response types, one entry per channel. `req: void` means the channel takes no input. */
export interface ApiRequests {
  'app.info': {
    req: void;
    res: {
      /** Version of the app (package.json). */
      version: string;
      /** tfjs backend in use ('wasm', 'tensorflow', ...) or null while no engine is loaded. */
      backend: string | null;
      /** Model the app opens by default. */
      defaultModel: string;
    };
  };
}

export type ApiChannel = keyof ApiRequests;
export type ApiRequest<K extends ApiChannel> = ApiRequests[K]['req'];
export type ApiResponse<K extends ApiChannel> = ApiRequests[K]['res'];

/** The single runtime list of request channels. The preload forwards nothing else. */
export const API_CHANNELS = ['app.info'] as const satisfies readonly ApiChannel[];

/** Long-running work reports progress as a discriminated union (maps 1:1 onto IPC / SSE). */
export type ProgressEvent =
  | { kind: 'initiate'; task: string; label: string }
  | { kind: 'progress'; task: string; done: number; total: number | null }
  | { kind: 'done'; task: string }
  | { kind: 'error'; task: string; error: ApiError };

/** Events pushed from the engine host to the UI, one entry per event name. */
export interface ApiEvents {
  progress: ProgressEvent;
}

export type ApiEventName = keyof ApiEvents;

/** The single runtime list of event names. The preload subscribes to nothing else. */
export const API_EVENTS = ['progress'] as const satisfies readonly ApiEventName[];

// Compile-time proof that the runtime lists cover the type maps (the `satisfies` above proves the
// other direction). A channel missing from a list makes `Exclude<...>` non-never and fails here.
type AssertNever<T extends never> = T;
export type ChannelsListedInFull = AssertNever<Exclude<ApiChannel, (typeof API_CHANNELS)[number]>>;
export type EventsListedInFull = AssertNever<Exclude<ApiEventName, (typeof API_EVENTS)[number]>>;

/** An error as it crosses a process boundary: plain data, re-thrown on the far side with its name. */
export interface ApiError {
  name: string;
  message: string;
}

/** What a handler's answer looks like on the wire (IPC reply or HTTP body). */
export type ApiEnvelope<T> = { result: T } | { error: ApiError };

/** Server side of the contract: one handler per channel. Implementations must not import electron. */
export type ApiHandlers = {
  [K in ApiChannel]: (req: ApiRequest<K>) => ApiResponse<K> | Promise<ApiResponse<K>>;
};

/** What the preload exposes as `window.textdream` (exactly these two members). */
export interface TextdreamBridge {
  invoke<K extends keyof ApiRequests>(channel: K, req: ApiRequests[K]['req']): Promise<ApiRequests[K]['res']>;
  on<E extends keyof ApiEvents>(event: E, cb: (payload: ApiEvents[E]) => void): () => void;
}

/** Name under which the preload exposes the bridge on `window`. */
export const BRIDGE_KEY = 'textdream';

/** HTTP transport (browser UI served by the CLI): `POST /api/<channel>` with a JSON body, answering an envelope. */
export const HTTP_API_PREFIX = '/api/';
/** HTTP transport: server-sent events, one SSE `event:` per `API_EVENTS` name, `data:` is the JSON payload. */
export const HTTP_EVENTS_PATH = '/api/events';

export function isApiChannel(value: unknown): value is ApiChannel {
  return typeof value === 'string' && (API_CHANNELS as readonly string[]).includes(value);
}

export function isApiEventName(value: unknown): value is ApiEventName {
  return typeof value === 'string' && (API_EVENTS as readonly string[]).includes(value);
}

/** Turn anything thrown by a handler into plain `{ name, message }` data. */
export function toApiError(thrown: unknown): ApiError {
  if (thrown instanceof Error) return { name: thrown.name || 'Error', message: thrown.message };
  if (typeof thrown === 'object' && thrown !== null) {
    const { name, message } = thrown as Partial<Record<'name' | 'message', unknown>>;
    if (typeof message === 'string') return { name: typeof name === 'string' && name ? name : 'Error', message };
  }
  return { name: 'Error', message: String(thrown) };
}

/** Wrap a handler's result (or what it threw) into an envelope. */
export async function settle<T>(work: () => T | Promise<T>): Promise<ApiEnvelope<T>> {
  try {
    return { result: await work() };
  } catch (thrown) {
    return { error: toApiError(thrown) };
  }
}

/** Build a real `Error` carrying the remote error's name. */
export function fromApiError(error: ApiError): Error {
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}

/** Unwrap an envelope: return the result, or throw the error with its name. */
export function unwrapEnvelope<T>(envelope: ApiEnvelope<T>): T {
  if (typeof envelope !== 'object' || envelope === null) {
    throw fromApiError({ name: 'ProtocolError', message: 'malformed API envelope (expected an object)' });
  }
  if ('error' in envelope) throw fromApiError(toApiError(envelope.error));
  if ('result' in envelope) return envelope.result;
  throw fromApiError({ name: 'ProtocolError', message: 'malformed API envelope (no "result" or "error")' });
}

/*
 * Electron's contextBridge copies a rejected Error into the page as `new Error(message)`: `name` and
 * every other property are dropped. So errors leaving the preload carry their name inside the
 * message, in the form `String(error)` already uses ("Name: message"), and the renderer client
 * restores it with `decodeBridgeError`. Every rejection from the preload's `invoke` goes through
 * `encodeBridgeError`, so decoding is unambiguous on that path.
 */
export function encodeBridgeError(error: ApiError): Error {
  const encoded = new Error(`${error.name}: ${error.message}`);
  encoded.name = error.name;
  return encoded;
}

const BRIDGE_ERROR_RE = /^([A-Za-z_$][\w$]*): ([\s\S]*)$/;

export function decodeBridgeError(thrown: unknown): Error {
  const { name, message } = toApiError(thrown);
  const match = BRIDGE_ERROR_RE.exec(message);
  if (!match) return fromApiError({ name, message });
  const [, encodedName, rest] = match;
  return fromApiError({ name: encodedName, message: rest });
}
