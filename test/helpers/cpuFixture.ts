// The fixture model on the cpu backend (the reference arithmetic) for a test file, and an element-wise closeness check.
import { afterAll, beforeAll, expect } from 'vitest';
import { initBackend } from '../../src-main/backend.js';
import { loadModel, type LoadedModel } from '../../src-main/model/load.js';
import { FIXTURE } from './shared.js';

/** Loads the fixture before the file's tests and disposes it after; call at the top level of a test file. */
export function useCpuFixture(): () => LoadedModel {
  let lm: LoadedModel | undefined;
  beforeAll(async () => {
    await initBackend('cpu');
    lm = await loadModel(FIXTURE);
  });
  afterAll(() => lm?.model.dispose());
  return () => lm!;
}

/** Same length, and every element within `tol`. */
export function expectClose(a: number[], b: number[], tol: number): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Math.abs(x - b[i]), `at ${i}: ${x} vs ${b[i]}`).toBeLessThan(tol));
}
