// Errors a sweep job raises on purpose.

/** The job stopped because its AbortSignal fired: nothing was written, and the job is pending again. */
export class SweepAbortedError extends Error {
  override name = 'SweepAbortedError';
}

/** The job cannot be done as asked (e.g. the scan kept too few records for the neuron): recorded as its failure. */
export class NeuronJobError extends Error {
  override name = 'NeuronJobError';
}

/**
 * The job does not fit the process that got it (another model, another explainer, settings that do not hash to its
 * key, a neuron outside the model): it fails the same way at every delivery to that process.
 */
export class JobMismatchError extends NeuronJobError {
  override name = 'JobMismatchError';
}

/** A selection or setting the user wrote badly or that does not fit the model; the message names the fix. */
export class SweepInputError extends Error {
  override name = 'SweepInputError';
}
