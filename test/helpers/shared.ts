import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's test data (test/fixtures/): everything a test reads lives inside the checkout. */
export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
/** The GPT-2 fixture with independently computed reference values (its README says how they were made). */
export const FIXTURE = join(FIXTURES, 'tiny-gpt2');

export interface FixtureExpected {
  tokens: Record<string, { text: string; ids: number[] }>;
  decoded: Record<string, string>;
  objective: { text: string; layer: number; neuron: number; mean_post: number; mean_sigmoid_post: number; grad_key: string; grad_sigmoid_key: string };
  loss_fox: number;
  logit_lens: { text: string; from: string; position: number; top10_ids: number[] };
  greedy_next_ids_fox: number[];
  variants: Record<string, { loss_fox: number; mean_post: number; expected: string }>;
}
export const expected: FixtureExpected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8'));

/** Largest absolute difference between two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
