// Reading a simulator's reply leniently. Models answer in many shapes: "token<TAB>7" lines (what we ask for),
// bare numbers one per line, a JSON list, "7/10", "**7**", numbers after a header line. Each reading below is
// tried in turn and the first that yields exactly one value per token wins; values are clamped to 0-10.
// When none does, the reply is rejected with a reason that says what each reading found.

export class SimulationParseError extends Error {
  override name = 'SimulationParseError';
}

const NUMBER = /[-+]?\d+(?:\.\d+)?/g;

/** Numbers in a piece of text, after removing "out of ten" suffixes ("7/10", "7 out of 10"). */
function numbersIn(text: string): number[] {
  const cleaned = text.replace(/\s*(?:\/|out of)\s*10(?:\.0+)?\b/gi, '');
  return (cleaned.match(NUMBER) ?? []).map(Number);
}

function lastNumber(text: string): number | undefined {
  const ns = numbersIn(text);
  return ns.length ? ns[ns.length - 1] : undefined;
}

/** A JSON array somewhere in the reply: numbers, [token, number] pairs, or objects with an activation field. */
function fromJSON(reply: string): number[] | null {
  const start = reply.indexOf('[');
  const end = reply.lastIndexOf(']');
  if (start < 0 || end <= start) return null;
  let value: unknown;
  try {
    value = JSON.parse(reply.slice(start, end + 1));
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  const out: number[] = [];
  for (const v of value) {
    let n: unknown = v;
    if (Array.isArray(v)) n = v[v.length - 1];
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      n = o.activation ?? o.value ?? o.score ?? o.act;
    }
    if (typeof n === 'string') n = lastNumber(n);
    if (typeof n !== 'number' || !Number.isFinite(n)) return null;
    out.push(n);
  }
  return out;
}

function lines(reply: string): string[] {
  return reply
    .replace(/```[a-z]*\n?/gi, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** Lines with a tab: the value is the last number after the last tab ("token\t7", "3\ttoken\t7"). */
function fromTabLines(reply: string): number[] | null {
  const tabbed = reply.split(/\r?\n/).filter((l) => l.includes('\t'));
  if (!tabbed.length) return null;
  const out: number[] = [];
  for (const l of tabbed) {
    const n = lastNumber(l.slice(l.lastIndexOf('\t') + 1));
    if (n === undefined) return null;
    out.push(n);
  }
  return out;
}

/** One value per line that has a number at all (the line's last number): bare numbers, "token: 7", "- 7". */
function fromLines(reply: string): number[] | null {
  const out: number[] = [];
  for (const l of lines(reply)) {
    const n = lastNumber(l);
    if (n !== undefined) out.push(n);
  }
  return out.length ? out : null;
}

/** Every number in the reply ("0 0 7 3", "0, 0, 7, 3"). */
function fromAll(reply: string): number[] | null {
  const ns = numbersIn(reply);
  return ns.length ? ns : null;
}

const READINGS: [string, (reply: string) => number[] | null][] = [
  ['JSON list', fromJSON],
  ['tab-separated lines', fromTabLines],
  ['numbers per line', fromLines],
  ['all numbers', fromAll],
];

const clamp = (n: number) => Math.max(0, Math.min(10, n));

/** One 0-10 value per token, or a SimulationParseError naming what was found. */
export function parseSimulation(reply: string, tokenCount: number): number[] {
  const found: string[] = [];
  for (const [name, read] of READINGS) {
    const ns = read(reply);
    if (!ns) continue;
    if (ns.length === tokenCount) return ns.map(clamp);
    found.push(`${name}: ${ns.length}`);
  }
  const head = JSON.stringify(reply.length > 80 ? `${reply.slice(0, 80)}…` : reply);
  const what = found.length ? `found ${found.join(', ')}` : 'found no numbers';
  throw new SimulationParseError(`simulator reply has the wrong number of values: expected ${tokenCount} (one per token), ${what}; reply ${head}`);
}
