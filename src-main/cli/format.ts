// Small text-formatting helpers shared by commands.

/** A token's text, quoted, with whitespace and control characters made visible. */
export function quote(text: string): string {
  return JSON.stringify(text);
}
