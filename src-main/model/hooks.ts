// Hook point names, TransformerLens style, built from structure rather than typed by hand.

export type BlockHook =
  | 'hook_resid_pre'
  | 'ln1.hook_normalized'
  | 'attn.hook_pattern'
  | 'attn.hook_z'
  | 'hook_attn_out'
  | 'hook_resid_mid'
  | 'ln2.hook_normalized'
  | 'mlp.hook_pre'
  | 'mlp.hook_post'
  | 'hook_mlp_out'
  | 'hook_resid_post';

export const BLOCK_HOOKS: readonly BlockHook[] = [
  'hook_resid_pre',
  'ln1.hook_normalized',
  'attn.hook_pattern',
  'attn.hook_z',
  'hook_attn_out',
  'hook_resid_mid',
  'ln2.hook_normalized',
  'mlp.hook_pre',
  'mlp.hook_post',
  'hook_mlp_out',
  'hook_resid_post',
];

export const GLOBAL_HOOKS = ['hook_embed', 'hook_pos_embed', 'ln_final.hook_normalized'] as const;

export function hookName(layer: number, kind: BlockHook): string {
  return `blocks.${layer}.${kind}`;
}

/** Every hook point of a model with nLayer blocks, in execution order. */
export function allHookNames(nLayer: number): string[] {
  const names: string[] = ['hook_embed', 'hook_pos_embed'];
  for (let l = 0; l < nLayer; l++) for (const k of BLOCK_HOOKS) names.push(hookName(l, k));
  names.push('ln_final.hook_normalized');
  return names;
}

/** Parse `blocks.L.kind` back to its parts; null for global hooks. */
export function parseHookName(name: string): { layer: number; kind: BlockHook } | null {
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (!m || !(BLOCK_HOOKS as readonly string[]).includes(m[2])) return null;
  return { layer: Number(m[1]), kind: m[2] as BlockHook };
}

export class HookError extends Error {
  override name = 'HookError';
}

/** Validate requested hook names against the model, naming the bad one and listing the pattern. */
export function checkHookNames(names: Iterable<string>, nLayer: number): Set<string> {
  const valid = new Set(allHookNames(nLayer));
  const out = new Set<string>();
  for (const n of names) {
    if (!valid.has(n)) {
      const p = parseHookName(n);
      const why = p ? `layer ${p.layer} is out of range (the model has layers 0-${nLayer - 1})` : 'no such hook point';
      throw new HookError(
        `unknown hook "${n}": ${why}. Hooks are ${GLOBAL_HOOKS.join(', ')} and blocks.L.{${BLOCK_HOOKS.join(',')}}.`,
      );
    }
    out.add(n);
  }
  return out;
}
