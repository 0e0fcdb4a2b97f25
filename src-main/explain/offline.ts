// The offline explainer and simulator: no language model, deterministic, cheap. The explanation lists the
// tokens and bigrams most associated with high activation, each with a level 0-10:
//   tokens: " cat" (9), " dog" (6); bigrams: " the" " cat" (8)
// and the simulator reads that string back (it sees nothing else) and predicts, per token, the level of the
// best match: the token itself, the bigram ending at it, or (at half the level) the token up to case and spaces.
import { scaleRecord } from './protocol.js';
import type { ActivationRecord, ExplainInput, Explainer, Simulator } from './types.js';

export interface OfflineOptions {
  /** Most tokens and bigrams listed. Defaults 5 and 3. */
  maxTokens?: number;
  maxBigrams?: number;
  /** Pseudo-count pulling a rare item's mean towards the overall mean. Default 2. */
  smoothing?: number;
  /** An item is listed only if its smoothed mean level reaches this. Default 2. */
  minLevel?: number;
  /** A bigram is listed only if it beats its last token's own level by this much and occurs this often. */
  bigramGain?: number;
  bigramMinCount?: number;
  /** Weight of a synthetic (dreamed) token against a real one in the statistics. Default 0.5: weaker evidence. */
  syntheticWeight?: number;
}

const DEFAULTS: Required<OfflineOptions> = { maxTokens: 5, maxBigrams: 3, smoothing: 2, minLevel: 2, bigramGain: 1, bigramMinCount: 2, syntheticWeight: 0.5 };

interface Stat {
  sum: number;
  count: number;
}

export interface ExplanationItem {
  tokens: string[]; // 1 for a token, 2 for a bigram
  level: number;
}

function add(map: Map<string, Stat>, key: string, a: number, w: number): void {
  const s = map.get(key);
  if (s) {
    s.sum += w * a;
    s.count += w;
  } else map.set(key, { sum: w * a, count: w });
}

const SEP = '\u0000';

/**
 * Items associated with high activation, best first: (smoothed mean level when present) − (mean when absent).
 * Counts are weighted: 1 per real token, `syntheticWeight` per token of a synthetic record.
 */
export function associatedItems(records: ActivationRecord[], max: number, options: OfflineOptions = {}, synthetic: ActivationRecord[] = []): { tokens: ExplanationItem[]; bigrams: ExplanationItem[] } {
  const o = { ...DEFAULTS, ...options };
  const uni = new Map<string, Stat>();
  const bi = new Map<string, Stat>();
  let total = 0;
  let n = 0;
  const weighted = [...records.map((r) => ({ r, w: 1 })), ...synthetic.map((r) => ({ r, w: o.syntheticWeight }))];
  for (const { r, w } of weighted) {
    if (!(w > 0)) continue;
    const scaled = scaleRecord(r, max);
    r.tokens.forEach((t, i) => {
      add(uni, t, scaled[i], w);
      if (i > 0) add(bi, r.tokens[i - 1] + SEP + t, scaled[i], w);
      total += w * scaled[i];
      n += w;
    });
  }
  if (!n) return { tokens: [], bigrams: [] };
  const mean = total / n;
  const present = (s: Stat) => (s.sum + o.smoothing * mean) / (s.count + o.smoothing);
  const absent = (s: Stat) => (n - s.count > 1e-9 ? (total - s.sum) / (n - s.count) : mean);
  const rank = (map: Map<string, Stat>) =>
    [...map.entries()]
      .map(([key, s]) => ({ key, s, level: present(s), gain: present(s) - absent(s) }))
      .filter((x) => x.gain > 0 && x.level >= o.minLevel)
      .sort((a, b) => b.gain - a.gain || b.level - a.level || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const level = (x: number) => Math.max(1, Math.min(10, Math.round(x)));
  const tokens = rank(uni)
    .slice(0, o.maxTokens)
    .map((x) => ({ tokens: [x.key], level: level(x.level) }));
  const bigrams = rank(bi)
    .filter((x) => x.s.count >= o.bigramMinCount && x.level - present(uni.get(x.key.split(SEP)[1])!) >= o.bigramGain)
    .slice(0, o.maxBigrams)
    .map((x) => ({ tokens: x.key.split(SEP), level: level(x.level) }));
  return { tokens, bigrams };
}

/** `tokens: " cat" (9), " dog" (6); bigrams: " the" " cat" (8)`; tokens are JSON strings. */
export function renderExplanation(items: { tokens: ExplanationItem[]; bigrams: ExplanationItem[] }): string {
  const show = (xs: ExplanationItem[]) => (xs.length ? xs.map((x) => `${x.tokens.map((t) => JSON.stringify(t)).join(' ')} (${x.level})`).join(', ') : 'none');
  return `tokens: ${show(items.tokens)}; bigrams: ${show(items.bigrams)}`;
}

/** Reads an explanation back: items under `tokens:` take one string, under `bigrams:` two; a missing level is 10. */
export function parseExplanation(text: string): { tokens: ExplanationItem[]; bigrams: ExplanationItem[] } {
  const out = { tokens: [] as ExplanationItem[], bigrams: [] as ExplanationItem[] };
  let section: 'tokens' | 'bigrams' | null = null;
  let pending: string[] = [];
  const flush = (lvl: number) => {
    if (section === 'tokens' && pending.length === 1) out.tokens.push({ tokens: pending, level: lvl });
    if (section === 'bigrams' && pending.length === 2) out.bigrams.push({ tokens: pending, level: lvl });
    pending = [];
  };
  const re = /\b(tokens|bigrams):|("(?:[^"\\]|\\.)*")|\((\d+(?:\.\d+)?)\)|(,|;)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1]) {
      flush(10);
      section = m[1] as 'tokens' | 'bigrams';
    } else if (m[2]) {
      try {
        pending.push(JSON.parse(m[2]) as string);
      } catch {
        pending = [];
      }
    } else if (m[3]) flush(Math.min(10, Number(m[3])));
    else if (pending.length) flush(10);
  }
  flush(10);
  return out;
}

const norm = (t: string) => t.trim().toLowerCase();

export interface OfflineSimulatorOptions {
  /** Level factor for a token equal up to case and surrounding spaces. Default 0.5. */
  looseWeight?: number;
  /** Level factor for the token right after a listed token. Default 0. */
  nextWeight?: number;
}

/** Predictions 0-10 for `tokens` from a parsed explanation. */
export function simulateFromItems(items: { tokens: ExplanationItem[]; bigrams: ExplanationItem[] }, tokens: string[], opts: OfflineSimulatorOptions = {}): number[] {
  const loose = opts.looseWeight ?? 0.5;
  const next = opts.nextWeight ?? 0;
  const exact = new Map<string, number>();
  const relaxed = new Map<string, number>();
  for (const it of items.tokens) {
    const [t] = it.tokens;
    exact.set(t, Math.max(exact.get(t) ?? 0, it.level));
    relaxed.set(norm(t), Math.max(relaxed.get(norm(t)) ?? 0, it.level));
  }
  const pairs = new Map<string, number>();
  for (const it of items.bigrams) {
    const k = it.tokens[0] + SEP + it.tokens[1];
    pairs.set(k, Math.max(pairs.get(k) ?? 0, it.level));
  }
  return tokens.map((t, i) => {
    let v = Math.max(exact.get(t) ?? 0, loose * (relaxed.get(norm(t)) ?? 0));
    if (i > 0) {
      v = Math.max(v, pairs.get(tokens[i - 1] + SEP + t) ?? 0);
      if (next > 0) v = Math.max(v, next * (exact.get(tokens[i - 1]) ?? 0));
    }
    return v;
  });
}

export function offlineExplainer(options: OfflineOptions = {}): Explainer {
  return {
    name: 'offline',
    async explain(input: ExplainInput) {
      return renderExplanation(associatedItems(input.records, input.maxActivation, options, input.synthetic));
    },
  };
}

export function offlineSimulator(options: OfflineSimulatorOptions = {}): Simulator {
  return {
    name: 'offline',
    async simulate(explanation: string, tokens: string[]) {
      return simulateFromItems(parseExplanation(explanation), tokens, options);
    },
  };
}
