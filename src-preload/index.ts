/**
 * Preload: exposes `window.textdream` with exactly `invoke` and `on`.
 *
 * Runs sandboxed (`sandbox: true`): it is bundled to a single CommonJS file whose only `require` is
 * `electron`; the contract is inlined by the bundler. Only channels and events named in the contract
 * pass; there is no generic send/forward.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  BRIDGE_KEY,
  encodeBridgeError,
  isApiChannel,
  isApiEventName,
  toApiError,
  type ApiEnvelope,
  type ApiEvents,
  type ApiRequests,
  type TextdreamBridge,
} from '../src-main/api/contract';

async function invoke<K extends keyof ApiRequests>(
  channel: K,
  req: ApiRequests[K]['req'],
): Promise<ApiRequests[K]['res']> {
  if (!isApiChannel(channel)) {
    throw encodeBridgeError({ name: 'UnknownChannelError', message: `unknown API channel: ${String(channel)}` });
  }
  let envelope: ApiEnvelope<ApiRequests[K]['res']>;
  try {
    envelope = await ipcRenderer.invoke(channel, req);
  } catch (thrown) {
    // IPC itself failed (no handler, uncloneable request, ...).
    throw encodeBridgeError(toApiError(thrown));
  }
  if (typeof envelope !== 'object' || envelope === null || !('result' in envelope || 'error' in envelope)) {
    throw encodeBridgeError({ name: 'ProtocolError', message: `malformed reply on ${channel}` });
  }
  if ('error' in envelope) throw encodeBridgeError(toApiError(envelope.error));
  return envelope.result;
}

function on<E extends keyof ApiEvents>(event: E, cb: (payload: ApiEvents[E]) => void): () => void {
  if (!isApiEventName(event)) throw encodeBridgeError({ name: 'UnknownEventError', message: `unknown API event: ${String(event)}` });
  if (typeof cb !== 'function') throw encodeBridgeError({ name: 'TypeError', message: 'callback must be a function' });
  // Never hand the IpcRendererEvent (it carries `sender`) to the page: pass the payload only.
  const listener = (_event: IpcRendererEvent, payload: ApiEvents[E]): void => cb(payload);
  ipcRenderer.on(event, listener);
  return () => {
    ipcRenderer.removeListener(event, listener);
  };
}

const bridge: TextdreamBridge = { invoke, on };

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
