// Which seed-pool windows `seeded` starts from: the most activating ones a reader can read. A seed the readability
// rule refuses (a word no word list knows, broken syntax) gives no readable dream however it is edited: the rule
// asks an edited dream to pass as its seed would and to be at least as likely as its seed under the judge. Such a
// seed's search member would be spent for nothing, so readable windows go first and the rest only fill.
import type { SeedWindow } from './seeded.js';

/** How many windows the seed source is asked for, per seed wanted: room to skip the unreadable ones. */
export const SEED_CHOICE_FACTOR = 4;

/** `count` seeds from windows sorted by value: readable ones first (in value order), then the others (in value order). */
export function chooseSeeds(windows: readonly SeedWindow[], count: number, readable: ((text: string) => boolean) | undefined): SeedWindow[] {
  if (!readable) return windows.slice(0, count);
  const good: SeedWindow[] = [];
  const rest: SeedWindow[] = [];
  for (const w of windows) (readable(w.text) ? good : rest).push(w);
  return [...good, ...rest].slice(0, count);
}
