/**
 * The handler map: one function per channel of the contract, typed against `ApiRequests`.
 *
 * No `electron` import here (the HTTP server can serve the same map). Handlers stay thin: they
 * answer from configuration or forward to the engine; they never compute on the main thread.
 *
 * Engine hosting (to come): the model/dream/store engine will run in an Electron `utilityProcess`
 * (forked from ipc.ts's owner, talking over a MessagePort), so tfjs never blocks the main thread or
 * the UI. Handlers will then await calls into that engine client, e.g.
 * `'dream.start': (req) => engine.call('dream.start', req)`, and its progress events will be relayed
 * with `sendEvent`. Until then `backend` is null: no engine is loaded.
 */
import { version } from '../../package.json';
import type { ApiHandlers } from '../api/contract';

export interface HandlerDeps {
  /** Model opened when the user has not chosen one. */
  defaultModel: string;
}

export const DEFAULT_HANDLER_DEPS: HandlerDeps = {
  defaultModel: 'resources/models/(to come)',
};

export function createApiHandlers(deps: HandlerDeps = DEFAULT_HANDLER_DEPS): ApiHandlers {
  return {
    'app.info': () => ({ version, backend: null, defaultModel: deps.defaultModel }),
  };
}
