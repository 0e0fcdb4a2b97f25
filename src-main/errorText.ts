// One line of an error for status lists and notes (stack traces and multi-line native messages cut off).
export function firstLine(e: unknown, max = 160): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0].slice(0, max);
}
