// Errors the engine answers with. Their `name` crosses the contract (`{ error: { name, message } }`), so the UI
// can tell "load a model first" from a bug; every message says what to do.

/** A request that does not fit the contract's shape or ranges. */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
}

/** The channel needs a model and none is loaded. */
export class NoModelError extends Error {
  override name = 'NoModelError';
  constructor(message = 'no model is loaded: pick one in the model picker (channel models.load)') {
    super(message);
  }
}

/** The engine cannot do this now (e.g. switch models while a dream runs on the current one). */
export class BusyError extends Error {
  override name = 'BusyError';
}

export class RunNotFoundError extends Error {
  override name = 'RunNotFoundError';
  constructor(runId: string) {
    super(`no run "${runId}" in this engine or its history (--db)`);
  }
}

/** A feature whose module is not installed in this build. */
export class NotAvailableError extends Error {
  override name = 'NotAvailableError';
}
