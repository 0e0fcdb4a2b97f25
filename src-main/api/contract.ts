/**
 * The one contract between the UI and the engine host.
 *
 * Every request channel and every event the renderer can see is declared here, once. Main (ipc),
 * preload (bridge), renderer (client), the engine service and the HTTP server all import this file; the runtime
 * lists `API_CHANNELS` / `API_EVENTS` are what the preload checks against, so nothing outside them
 * can cross the bridge.
 *
 * This file must stay dependency-free (no `electron`, no `node:` imports, no engine code): it is
 * bundled into the sandboxed preload and into the browser renderer. The data types live beside it in
 * wire.ts (equally free of runtime imports: it takes the engine's plain-data types with `import type` only) and
 * are re-exported from here.
 *
 * To add a channel: add it to `ApiRequests` and to `API_CHANNELS` (the compiler fails until both
 * agree), then give it a handler in the main process's handler map (also checked by the compiler).
 */

import type {
  DreamSettings,
  DreamSettingField,
  DreamStep,
  DreamMethodName,
  DreamOutcome,
  ExplainResult,
  ExportFormat,
  ExportedFile,
  FeatureStatus,
  MnistRun,
  MnistSettings,
  MnistSide,
  MnistSpace,
  MnistStep,
  MnistTargetSpec,
  ModelInfo,
  ModelsState,
  NeuronPage,
  NeuronSearchResult,
  RunComparison,
  RunDetail,
  RunStatus,
  RunSummary,
  SweptLayer,
  TokenValue,
  WireTarget,
} from './wire';

export type * from './wire';

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
  /** The loaded model, a load in progress, and the models on offer. */
  'models.state': { req: void; res: ModelsState };
  /** Load a folder or a hub id (download progress arrives as `progress` events, task `model`). */
  'models.load': { req: { spec: string }; res: ModelInfo };
  /** A neuron's page: corpus statistics, top examples, histogram, quantiles, logit lens of its output weights. */
  /** With `sae` (as a latent target names it, e.g. `L2.resid_pre`): latent `neuron` of that SAE (`layer` unused). */
  'neurons.page': { req: { layer: number; neuron: number; examples?: number; sae?: string | null }; res: NeuronPage };
  /** Run a text and list the neurons it activates most (all layers, or one). */
  'neurons.search': { req: { text: string; layer?: number | null; top?: number }; res: NeuronSearchResult };
  /** One neuron's activation at every token of a text. */
  'neurons.activations': { req: { layer: number; neuron: number; text: string; sae?: string | null }; res: TokenValue[] };
  /**
   * The neuron browser's table: every neuron of a layer that a sweep of the loaded model touched (job state, and
   * once done its page's figures), optionally only those whose explanation or dream holds every word of `search`.
   */
  'sweeps.layer': { req: { layer: number; search?: string; sae?: string | null }; res: SweptLayer };
  /**
   * Default dream settings, the methods, and every setting's declaration (the form is drawn from `fields`); `schema`
   * is the JSON schema `dreams.start` checks its settings (the target aside) against.
   */
  'dreams.defaults': {
    req: void;
    res: {
      settings: Omit<DreamSettings, 'target'>;
      methods: DreamMethodName[];
      summaries: Record<string, string>;
      decoders: string[];
      fields: DreamSettingField[];
      schema: Record<string, unknown>;
    };
  };
  /** Start a dream in the engine; it runs on when clients disconnect. Step records arrive as `dream.step`. */
  'dreams.start': { req: { settings: Partial<DreamSettings> & { target: WireTarget } }; res: { runId: string } };
  'dreams.stop': { req: { runId: string }; res: { stopped: boolean } };
  /** Runs hosted by the engine right now. */
  'dreams.active': { req: void; res: RunSummary[] };
  /** History, newest first. */
  'dreams.list': { req: { search?: string; layer?: number; neuron?: number; limit?: number }; res: RunSummary[] };
  /** One run with every record so far (a live run included: this is how a reconnecting client catches up). */
  'dreams.get': { req: { runId: string }; res: RunDetail };
  'dreams.compare': { req: { a: string; b: string }; res: RunComparison };
  'dreams.export': { req: { runIds: string[]; format: ExportFormat }; res: ExportedFile };
  /** Cancel long work named in a `progress` event (a model download, ...). */
  'tasks.cancel': { req: { task: string }; res: { cancelled: boolean } };
  /** Whether the MNIST networks are installed (resources/mnist), and the defaults of a dream. */
  'mnist.status': { req: void; res: FeatureStatus & { defaults: Omit<MnistSettings, 'target'> | null } };
  /** Dream an MNIST class or hidden unit from raw pixels and from the latent, side by side; steps arrive as `mnist.step`. */
  'mnist.start': { req: { settings: Partial<MnistSettings> & { target: MnistTargetSpec } }; res: { runId: string } };
  'mnist.stop': { req: { runId: string }; res: { stopped: boolean } };
  /** The run with every record so far (the current run, or the last one: MNIST dreams are not stored). */
  'mnist.get': { req: { runId?: string }; res: MnistRun | null };
  'explain.status': { req: void; res: FeatureStatus };
  /**
   * Explain a neuron in words (offline token/bigram explainer) and score the explanation by simulation on
   * held-out records; `withDreams` explains again with dreams added and reports the uplift. Long work: a
   * `progress` task (cancellable) runs meanwhile.
   */
  'explain.run': {
    req: { layer: number; neuron: number; withDreams?: boolean; corpusTokens?: number; dreamSteps?: number; seed?: number };
    res: ExplainResult;
  };
}

export type ApiChannel = keyof ApiRequests;
export type ApiRequest<K extends ApiChannel> = ApiRequests[K]['req'];
export type ApiResponse<K extends ApiChannel> = ApiRequests[K]['res'];

/** The single runtime list of request channels. The preload forwards nothing else. */
export const API_CHANNELS = [
  'app.info',
  'models.state',
  'models.load',
  'neurons.page',
  'neurons.search',
  'neurons.activations',
  'sweeps.layer',
  'dreams.defaults',
  'dreams.start',
  'dreams.stop',
  'dreams.active',
  'dreams.list',
  'dreams.get',
  'dreams.compare',
  'dreams.export',
  'tasks.cancel',
  'mnist.status',
  'mnist.start',
  'mnist.stop',
  'mnist.get',
  'explain.status',
  'explain.run',
] as const satisfies readonly ApiChannel[];

/** Long-running work reports progress as a union on `type`, the one field every event union of the engine discriminates on (maps 1:1 onto IPC / SSE). */
export type ProgressEvent =
  | { type: 'initiate'; task: string; label: string }
  | { type: 'progress'; task: string; done: number; total: number | null; detail?: string }
  | { type: 'done'; task: string }
  | { type: 'cancelled'; task: string }
  | { type: 'error'; task: string; error: ApiError };

/** Events pushed from the engine host to the UI, one entry per event name. */
export interface ApiEvents {
  progress: ProgressEvent;
  /** The model state changed (load started, finished or failed). */
  'models.changed': ModelsState;
  'dream.started': { run: RunSummary };
  /** `index` counts the run's records from 0, so a client can drop what it already has. */
  'dream.step': { runId: string; index: number; record: DreamStep };
  'dream.ended': { runId: string; status: RunStatus; result: DreamOutcome | null; error: string | null };
  'mnist.step': { runId: string; space: MnistSpace; index: number; record: MnistStep };
  'mnist.ended': { runId: string; space: MnistSpace; status: MnistSide['status']; error: string | null };
}

export type ApiEventName = keyof ApiEvents;

/** The single runtime list of event names. The preload subscribes to nothing else. */
export const API_EVENTS = ['progress', 'models.changed', 'dream.started', 'dream.step', 'dream.ended', 'mnist.step', 'mnist.ended'] as const satisfies readonly ApiEventName[];

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
/**
 * HTTP transport: server-sent events, one SSE `event:` per `API_EVENTS` name, `data:` is the JSON payload and
 * `id:` a sequence number. A reconnecting EventSource sends `Last-Event-ID` and gets what it missed; `?run=<id>`
 * (repeatable) first replays those runs' records so far as `dream.step` events.
 */
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
