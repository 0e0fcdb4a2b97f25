/**
 * Objective expressions: a weighted sum of neurons written as a researcher would, `0.8*L2N100 - 0.2*L2N7`, parsed
 * into the engine's sum target. Grammar (spaces anywhere between tokens):
 *
 *   expression := sign? term (('+' | '-') term)*
 *   term       := number '*'? neuron | neuron ('*' number)? | number '*' neuron
 *   neuron     := 'L' integer 'N' integer          (layer, neuron; case-insensitive)
 *
 * Terms naming the same neuron are merged. Syntax only: layer and neuron ranges are checked against the model.
 */

export interface NeuronTerm {
  layer: number;
  neuron: number;
  weight: number;
}

export class ObjectiveExpressionError extends Error {
  override readonly name = 'ObjectiveExpressionError';
}

type Token = { kind: 'number'; value: number; at: number } | { kind: 'neuron'; layer: number; neuron: number; at: number } | { kind: 'op'; op: '+' | '-' | '*'; at: number };

const EXAMPLE = 'e.g. "L2N100 - 0.5*L2N7"';

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(L(\d+)N(\d+))|(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|([+\-*]))/iy;
  let at = 0;
  while (at < src.length) {
    if (/^\s*$/.test(src.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(src);
    if (!m) {
      const rest = src.slice(at).trimStart();
      throw new ObjectiveExpressionError(`objective: cannot read "${rest.slice(0, 12)}" at character ${src.length - rest.length + 1}: write neurons as L<layer>N<neuron> with weights, ${EXAMPLE}`);
    }
    const start = at + m[0].length - m[0].trimStart().length;
    if (m[1]) out.push({ kind: 'neuron', layer: Number(m[2]), neuron: Number(m[3]), at: start });
    else if (m[4]) out.push({ kind: 'number', value: Number(m[4]), at: start });
    else out.push({ kind: 'op', op: m[5] as '+' | '-' | '*', at: start });
    at = re.lastIndex;
  }
  return out;
}

export function parseObjectiveExpression(src: string): NeuronTerm[] {
  const tokens = tokenize(src);
  if (!tokens.length) throw new ObjectiveExpressionError(`objective is empty: give neurons with weights, ${EXAMPLE}`);
  let i = 0;
  const where = (t: Token | undefined) => (t ? `at character ${t.at + 1}` : 'at the end');
  const fail = (what: string): never => {
    throw new ObjectiveExpressionError(`objective "${src.trim()}": expected ${what} ${where(tokens[i])}, ${EXAMPLE}`);
  };
  const isOp = (op: string) => tokens[i]?.kind === 'op' && (tokens[i] as { op: string }).op === op;
  const terms: NeuronTerm[] = [];
  let sign = 1;
  if (isOp('+') || isOp('-')) {
    sign = isOp('-') ? -1 : 1;
    i++;
  }
  for (;;) {
    let weight = 1;
    let neuron: { layer: number; neuron: number } | null = null;
    const t = tokens[i];
    if (t?.kind === 'number') {
      weight = t.value;
      i++;
      if (isOp('*')) i++;
      const n = tokens[i];
      if (n?.kind !== 'neuron') fail('a neuron (L<layer>N<neuron>) after the weight');
      neuron = n as { layer: number; neuron: number };
      i++;
    } else if (t?.kind === 'neuron') {
      neuron = t;
      i++;
      if (isOp('*')) {
        i++;
        const w = tokens[i];
        if (w?.kind !== 'number') fail('a weight after "*"');
        weight = (w as { value: number }).value;
        i++;
      }
    } else {
      fail('a neuron (L<layer>N<neuron>) or a weight');
    }
    terms.push({ layer: neuron!.layer, neuron: neuron!.neuron, weight: sign * weight });
    if (i === tokens.length) break;
    if (!isOp('+') && !isOp('-')) fail('"+" or "-" between terms');
    sign = isOp('-') ? -1 : 1;
    i++;
  }
  // One term per neuron: `L1N2 + L1N2` is 2·L1N2.
  const merged = new Map<string, NeuronTerm>();
  for (const t of terms) {
    const key = `${t.layer}:${t.neuron}`;
    const prev = merged.get(key);
    merged.set(key, prev ? { ...prev, weight: prev.weight + t.weight } : t);
  }
  const out = [...merged.values()];
  if (out.every((t) => t.weight === 0)) throw new ObjectiveExpressionError(`objective "${src.trim()}": every weight is zero, so there is nothing to maximise`);
  return out;
}

/** The expression of a sum, as parseObjectiveExpression reads it back (for descriptions and the store). */
export function formatObjectiveExpression(terms: readonly NeuronTerm[]): string {
  return terms
    .map((t, i) => {
      const w = Math.abs(t.weight);
      const body = `${w === 1 ? '' : `${w}*`}L${t.layer}N${t.neuron}`;
      return i === 0 ? (t.weight < 0 ? `-${body}` : body) : `${t.weight < 0 ? ' - ' : ' + '}${body}`;
    })
    .join('');
}
