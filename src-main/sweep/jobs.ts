// Sweep jobs as data: the settings hash that keys them, and `--layers 0-3 --neurons all|0-63|1,5,9` expanded into one
// job per neuron, in layer-then-neuron order. Nothing here touches a model or a store.
import { createHash } from 'node:crypto';
import { parseHookName } from '../model/hooks.js';
import { SweepInputError } from './errors.js';
import type { SweepJob, SweepJobKey, SweepSettings } from './types.js';

/** JSON with object keys sorted at every level, so equal settings always give the same text. */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** 16 hex digits of sha256 over the canonical settings: the part of a job's key that says how it was done. */
export function settingsHash(settings: SweepSettings): string {
  return createHash('sha256').update(canonicalJSON(settings)).digest('hex').slice(0, 16);
}

/** `all`, or inclusive ranges (`0-63`, `1,5,9` = 1-1, 5-5, 9-9), expanded only once checked against the model. */
export type Selection = 'all' | [number, number][];

/**
 * A `--layers`/`--neurons` value, syntax only; the model's sizes are checked by `resolveSelection`. `what` is
 * `layer` or `neuron`, for the messages.
 */
export function parseSelection(value: string, flag: string, what: string): Selection {
  const v = value.trim();
  if (v === 'all') return 'all';
  if (v === '') throw new SweepInputError(`${flag} is empty: give ${what}s, e.g. ${flag} all, ${flag} 0-63 or ${flag} 1,5,9`);
  return v.split(',').map((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new SweepInputError(`${flag} must be all, a range like 0-63 or a list like 1,5,9 (ranges and numbers can mix: 0-3,8); got "${value}"`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) throw new SweepInputError(`${flag}: ${part.trim()} is not a ${what} number`);
    if (b < a) throw new SweepInputError(`${flag}: the range ${part.trim()} runs backwards: write it low-high, e.g. ${b}-${a}`);
    return [a, b];
  });
}

/** The indices a selection names among 0..count-1, ascending without repeats; beyond the range is refused. */
export function resolveSelection(sel: Selection, count: number, flag: string, describe: string): number[] {
  if (sel === 'all') return [...Array(count).keys()];
  const largest = Math.max(...sel.map(([, b]) => b));
  if (largest >= count) throw new SweepInputError(`${flag}: ${largest} is out of range: ${describe} 0-${count - 1}; use e.g. ${flag} 0-${count - 1} or ${flag} all`);
  const out = new Set<number>();
  for (const [a, b] of sel) for (let i = a; i <= b; i++) out.add(i);
  return [...out].sort((x, y) => x - y);
}

/** One job per (layer, neuron) of the selections, layers in order and neurons in order within each. */
export function expandJobs(model: string, shape: { nLayer: number; dMlp: number }, layers: Selection, neurons: Selection, settings: SweepSettings): SweepJob[] {
  const sae = settings.scan.sae;
  if (sae) {
    // An SAE's latents: one group, under its hook's layer (its scan rows and explanations are keyed so).
    if (layers !== 'all') throw new SweepInputError(`--layers does not apply to an SAE sweep (the SAE ${sae.spec} reads ${sae.hook}): drop it`);
    const ns = resolveSelection(neurons, sae.latents, '--neurons', `the SAE ${sae.spec} has latents`);
    const hash = settingsHash(settings);
    return ns.map((neuron) => ({ model, layer: saeLayer(sae), neuron, settingsHash: hash, settings }));
  }
  const ls = resolveSelection(layers, shape.nLayer, '--layers', 'this model has layers');
  const ns = resolveSelection(neurons, shape.dMlp, '--neurons', 'each layer has neurons');
  const hash = settingsHash(settings);
  return ls.flatMap((layer) => ns.map((neuron) => ({ model, layer, neuron, settingsHash: hash, settings })));
}

/** The block an SAE's hook is in (`blocks.2.hook_resid_pre` → 2). */
export function saeLayer(sae: { hook: string }): number {
  const hook = parseHookName(sae.hook);
  if (!hook) throw new SweepInputError(`the SAE reads ${sae.hook}, which is not a block's hook`);
  return hook.layer;
}

/** `L1N7`, or for a job of an SAE sweep `sae:<spec>:7`. */
export const jobLabel = (j: { layer: number; neuron: number; settings?: SweepSettings }): string =>
  j.settings?.scan.sae ? `sae:${j.settings.scan.sae.spec}:${j.neuron}` : `L${j.layer}N${j.neuron}`;

/** The store key of a job (its data without the settings). */
export const jobKey = (j: SweepJobKey): SweepJobKey => ({ model: j.model, layer: j.layer, neuron: j.neuron, settingsHash: j.settingsHash });
