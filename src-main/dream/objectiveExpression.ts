/**
 * Objective expressions: a weighted sum of neurons, attention heads and SAE latents written as a researcher would,
 * `0.8*L2N100 - 0.2*L2N7`, `L1H3 - 0.5*L1N7` or `sae:L2.resid_pre:123 - 0.5*L1N7`, parsed into the engine's sum
 * target. Grammar (spaces
 * anywhere between tokens):
 *
 *   expression := sign? term (('+' | '-') term)*
 *   term       := number '*'? unit | unit ('*' number)?
 *   unit       := neuron | head | latent
 *   neuron     := 'L' integer 'N' integer          (layer, neuron; case-insensitive)
 *   head       := 'L' integer 'H' integer          (layer, attention head: the norm of its output)
 *   latent     := 'sae:' where ':' integer          (where: L<layer>.<site> beside the model, or a folder without
 *                                                    spaces or colons)
 *
 * Terms naming the same neuron or latent are merged. Syntax only: ranges and folders are checked against the model.
 */

import type { TargetSpec } from './settings/types.js';

export interface NeuronTerm {
  layer: number;
  neuron: number;
  weight: number;
}

export interface LatentTerm {
  /** `L2.resid_pre` (the model folder's own SAE) or an SAE folder. */
  sae: string;
  latent: number;
  weight: number;
}

export interface HeadTerm {
  layer: number;
  head: number;
  weight: number;
}

export type ObjectiveTerm = NeuronTerm | LatentTerm | HeadTerm;

export const isLatentTerm = (t: ObjectiveTerm): t is LatentTerm => 'sae' in t;
export const isHeadTerm = (t: ObjectiveTerm): t is HeadTerm => 'head' in t;
export const isNeuronTerm = (t: ObjectiveTerm): t is NeuronTerm => 'neuron' in t;

/** How a term is written: `L2N7`, `L1H3`, `sae:L2.resid_pre:5`. */
export function termName(t: Omit<NeuronTerm, 'weight'> | Omit<LatentTerm, 'weight'> | Omit<HeadTerm, 'weight'>): string {
  return 'sae' in t ? `sae:${t.sae}:${t.latent}` : 'head' in t ? `L${t.layer}H${t.head}` : `L${t.layer}N${t.neuron}`;
}

export class ObjectiveExpressionError extends Error {
  override readonly name = 'ObjectiveExpressionError';
}

type Unit = { layer: number; neuron: number } | { layer: number; head: number } | { sae: string; latent: number };
type Token = { kind: 'number'; value: number; at: number } | { kind: 'unit'; unit: Unit; at: number } | { kind: 'op'; op: '+' | '-' | '*'; at: number };

const EXAMPLE = 'e.g. "L2N100 - 0.5*L2N7" or "sae:L2.resid_pre:123 - 0.5*L2N7"';

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(L(\d+)([NH])(\d+))|(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|([+\-*])|(sae:([^\s:]+):(\d+)))/iy;
  let at = 0;
  while (at < src.length) {
    if (/^\s*$/.test(src.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(src);
    if (!m) {
      const rest = src.slice(at).trimStart();
      const hint = /^sae:/i.test(rest) ? 'write an SAE latent as sae:<L<layer>.<site> or a folder without spaces or colons>:<latent>' : 'write neurons as L<layer>N<neuron> and SAE latents as sae:<where>:<latent>, with weights';
      throw new ObjectiveExpressionError(`objective: cannot read "${rest.slice(0, 12)}" at character ${src.length - rest.length + 1}: ${hint}, ${EXAMPLE}`);
    }
    const start = at + m[0].length - m[0].trimStart().length;
    if (m[1]) out.push({ kind: 'unit', unit: m[3]!.toUpperCase() === 'H' ? { layer: Number(m[2]), head: Number(m[4]) } : { layer: Number(m[2]), neuron: Number(m[4]) }, at: start });
    else if (m[7]) out.push({ kind: 'unit', unit: { sae: m[8]!, latent: Number(m[9]) }, at: start });
    else if (m[5]) out.push({ kind: 'number', value: Number(m[5]), at: start });
    else out.push({ kind: 'op', op: m[6] as '+' | '-' | '*', at: start });
    at = re.lastIndex;
  }
  return out;
}

export function parseObjectiveExpression(src: string): ObjectiveTerm[] {
  const tokens = tokenize(src);
  if (!tokens.length) throw new ObjectiveExpressionError(`objective is empty: give neurons or SAE latents with weights, ${EXAMPLE}`);
  let i = 0;
  const where = (t: Token | undefined) => (t ? `at character ${t.at + 1}` : 'at the end');
  const fail = (what: string): never => {
    throw new ObjectiveExpressionError(`objective "${src.trim()}": expected ${what} ${where(tokens[i])}, ${EXAMPLE}`);
  };
  const isOp = (op: string) => tokens[i]?.kind === 'op' && (tokens[i] as { op: string }).op === op;
  const terms: ObjectiveTerm[] = [];
  let sign = 1;
  if (isOp('+') || isOp('-')) {
    sign = isOp('-') ? -1 : 1;
    i++;
  }
  for (;;) {
    let weight = 1;
    let unit: Unit | null = null;
    const t = tokens[i];
    if (t?.kind === 'number') {
      weight = t.value;
      i++;
      if (isOp('*')) i++;
      const n = tokens[i];
      if (n?.kind !== 'unit') fail('a neuron (L<layer>N<neuron>) or latent (sae:<where>:<latent>) after the weight');
      unit = (n as { unit: Unit }).unit;
      i++;
    } else if (t?.kind === 'unit') {
      unit = t.unit;
      i++;
      if (isOp('*')) {
        i++;
        const w = tokens[i];
        if (w?.kind !== 'number') fail('a weight after "*"');
        weight = (w as { value: number }).value;
        i++;
      }
    } else {
      fail('a neuron (L<layer>N<neuron>), a latent (sae:<where>:<latent>) or a weight');
    }
    terms.push({ ...unit!, weight: sign * weight });
    if (i === tokens.length) break;
    if (!isOp('+') && !isOp('-')) fail('"+" or "-" between terms');
    sign = isOp('-') ? -1 : 1;
    i++;
  }
  // One term per neuron or latent: `L1N2 + L1N2` is 2·L1N2.
  const merged = new Map<string, ObjectiveTerm>();
  for (const t of terms) {
    const key = termName(t);
    const prev = merged.get(key);
    merged.set(key, prev ? { ...prev, weight: prev.weight + t.weight } : t);
  }
  const out = [...merged.values()];
  if (out.every((t) => t.weight === 0)) throw new ObjectiveExpressionError(`objective "${src.trim()}": every weight is zero, so there is nothing to maximise`);
  return out;
}

/** The expression of a sum, as parseObjectiveExpression reads it back (for descriptions and the store). */
export function formatObjectiveExpression(terms: readonly ObjectiveTerm[]): string {
  return terms
    .map((t, i) => {
      const w = Math.abs(t.weight);
      const body = `${w === 1 ? '' : `${w}*`}${termName(t)}`;
      return i === 0 ? (t.weight < 0 ? `-${body}` : body) : `${t.weight < 0 ? ' - ' : ' + '}${body}`;
    })
    .join('');
}

/** An expression as a target: one neuron, head or latent when that is all it names (weight 1), else a sum. */
export function expressionTarget(src: string): TargetSpec {
  const terms = parseObjectiveExpression(src);
  const only = terms.length === 1 && terms[0]!.weight === 1 ? terms[0]! : null;
  if (only && isLatentTerm(only)) return { kind: 'sae', sae: only.sae, latent: only.latent };
  if (only && isHeadTerm(only)) return { kind: 'head', layer: only.layer, head: only.head };
  if (only && isNeuronTerm(only)) return { kind: 'neuron', layer: only.layer, neuron: only.neuron };
  const latents = terms.filter(isLatentTerm);
  const heads = terms.filter(isHeadTerm);
  return { kind: 'sum', terms: terms.filter(isNeuronTerm), ...(latents.length ? { latents } : {}), ...(heads.length ? { heads } : {}) };
}

/** A sum target's terms in expression order: neurons, heads, then latents. */
export function sumTerms(t: Extract<TargetSpec, { kind: 'sum' }>): ObjectiveTerm[] {
  return [...t.terms, ...(t.heads ?? []), ...(t.latents ?? [])];
}
