/**
 * IPC: registers one `ipcMain.handle` per channel of the contract and pushes the engine's typed events
 * to our own pages.
 *
 * Replies are always envelopes (`{ result }` or `{ error: { name, message } }`): Electron would
 * otherwise flatten a thrown error into "Error invoking remote method ..." and lose its name.
 */
import { ipcMain, webContents, type IpcMainInvokeEvent, type WebContents } from 'electron';
import {
  API_CHANNELS,
  settle,
  type ApiChannel,
  type ApiEnvelope,
  type ApiEvents,
  type ApiHandlers,
  type ApiRequest,
  type ApiResponse,
} from '../api/contract';
import type { AnyEvent } from '../engine/events';

export interface IpcContext {
  handlers: ApiHandlers;
  /** True when a frame at this URL may call the API (our own renderer only). */
  isTrustedUrl: (url: string) => boolean;
}

function dispatch<K extends ApiChannel>(
  handlers: ApiHandlers,
  channel: K,
  req: ApiRequest<K>,
): Promise<ApiEnvelope<ApiResponse<K>>> {
  const handler: ApiHandlers[K] = handlers[channel];
  return settle(() => handler(req));
}

/** Register every channel; returns a function that removes the handlers again. */
export function enableIpc(ctx: IpcContext): () => void {
  for (const channel of API_CHANNELS) {
    ipcMain.handle(channel, (event: IpcMainInvokeEvent, req: unknown) => {
      const url = event.senderFrame?.url ?? '';
      if (!ctx.isTrustedUrl(url)) {
        return { error: { name: 'ForbiddenError', message: `API call from untrusted frame: ${url || '(unknown)'}` } };
      }
      // `req` is renderer input: the contract types it but does not check it. Handlers that take
      // input validate it (one validated config type per request) before it reaches the engine.
      return dispatch(ctx.handlers, channel, req as ApiRequest<typeof channel>);
    });
  }
  return () => {
    for (const channel of API_CHANNELS) ipcMain.removeHandler(channel);
  };
}

/** Push an event to one window's renderer (typed against `ApiEvents`). */
export function sendEvent<E extends keyof ApiEvents>(target: WebContents, event: E, payload: ApiEvents[E]): void {
  if (!target.isDestroyed()) target.send(event, payload);
}

/** Forward every engine event to each page of ours (other pages, if any, get nothing). */
export function relayEvents(source: { onEvent(listener: (event: AnyEvent) => void): () => void }, isTrustedUrl: (url: string) => boolean): () => void {
  return source.onEvent((event) => {
    for (const target of webContents.getAllWebContents()) {
      if (isTrustedUrl(target.getURL())) sendEvent(target, event.name, event.payload);
    }
  });
}
