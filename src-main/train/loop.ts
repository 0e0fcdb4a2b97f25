// The loop both trainers share: step until the target count or a stop, summarise every `logEvery` steps (with a
// held-out evaluation every `evalEvery`), checkpoint every `checkpointEvery` steps and once more at the end.
export interface LoopCadence {
  steps: number;
  logEvery: number;
  evalEvery: number;
  checkpointEvery: number;
}

export interface TrainLoop<R> {
  cadence: LoopCadence;
  /** The steps done so far (advanced by `step`). */
  done(): number;
  step(): Promise<R>;
  /** Record and log the window of step results since the last report; `evaluate` says whether to run held-out evaluation. */
  report(window: R[], seconds: number, evaluate: boolean): Promise<void>;
  checkpoint(): Promise<void>;
}

export async function runTrainLoop<R>(loop: TrainLoop<R>, signal?: AbortSignal): Promise<void> {
  const { steps, logEvery, evalEvery, checkpointEvery } = loop.cadence;
  let t0 = Date.now();
  let window: R[] = [];
  while (loop.done() < steps && !signal?.aborted) {
    window.push(await loop.step());
    const step = loop.done();
    if (step % logEvery === 0 || step === steps) {
      await loop.report(window, (Date.now() - t0) / 1000, step % evalEvery === 0 || step === steps);
      window = [];
      t0 = Date.now();
    }
    if (step % checkpointEvery === 0) await loop.checkpoint();
  }
  await loop.checkpoint();
}
