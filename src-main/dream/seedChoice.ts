// Which seed-pool windows `seeded` starts from: the most activating ones a reader can read. A seed the readability
// rule refuses (a word no word list knows, broken syntax) gives no readable dream however it is edited: the rule
// asks an edited dream to pass as its seed would and to be at least as likely as its seed under the judge. Such a
// seed's search member would be spent for nothing, so readable windows go first and the rest only fill.
import type { SeedWindow } from './seeded.js';

/** How many windows the seed source is asked for, per seed wanted: room to skip the unreadable ones. */
export const SEED_CHOICE_FACTOR = 4;

/**
 * From windows sorted by value: `count` seeds, readable ones first (in value order), then the others (in value
 * order); and the reserve a member takes up when its search stops moving: the readable windows left (an unreadable
 * one only ever fills), or every window left without a test. Each window's readability is asked once.
 */
export function chooseSeeds(windows: readonly SeedWindow[], count: number, readable: ((text: string) => boolean) | undefined): { seeds: SeedWindow[]; reserve: SeedWindow[] } {
  if (!readable) return { seeds: windows.slice(0, count), reserve: windows.slice(count) };
  const good: SeedWindow[] = [];
  const rest: SeedWindow[] = [];
  for (const w of windows) (readable(w.text) ? good : rest).push(w);
  return { seeds: [...good, ...rest].slice(0, count), reserve: good.slice(count) };
}
