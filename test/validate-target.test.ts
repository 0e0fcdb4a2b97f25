// The wire's target check (engine/validate.ts): sums may carry SAE latents beside neurons, and malformed ones are
// refused naming the field.
import { describe, expect, it } from 'vitest';
import { target } from '../src-main/engine/validate.js';
import { targetLabel } from '../src-main/store/rows.js';

describe('settings.target', () => {
  it('keeps a sum of neurons and SAE latents, and labels it with both', () => {
    const t = target({ kind: 'sum', terms: [{ layer: 1, neuron: 7, weight: -0.5 }], latents: [{ sae: 'L2.resid_pre', latent: 5, weight: 1 }] });
    expect(t).toEqual({ kind: 'sum', terms: [{ layer: 1, neuron: 7, weight: -0.5 }], latents: [{ sae: 'L2.resid_pre', latent: 5, weight: 1 }] });
    expect(targetLabel(t)).toBe('−0.5·L1N7 + 1·sae:L2.resid_pre:5');
    // latents alone, no neuron terms
    expect(target({ kind: 'sum', terms: [], latents: [{ sae: '/x', latent: 0, weight: 2 }] })).toEqual({ kind: 'sum', terms: [], latents: [{ sae: '/x', latent: 0, weight: 2 }] });
    // a plain neuron sum gains no latents field
    expect(target({ kind: 'sum', terms: [{ layer: 0, neuron: 1, weight: 1 }] })).toEqual({ kind: 'sum', terms: [{ layer: 0, neuron: 1, weight: 1 }] });
  });

  it('refuses an empty sum and malformed latents, naming the field', () => {
    expect(() => target({ kind: 'sum', terms: [] })).toThrow(/together at least one/);
    expect(() => target({ kind: 'sum', terms: [], latents: 'sae:x:1' })).toThrow(/target\.latents of 0-16/);
    expect(() => target({ kind: 'sum', terms: [], latents: [{ sae: 'x', latent: 1.5, weight: 1 }] })).toThrow(/target\.latents\[0\]\.latent/);
    expect(() => target({ kind: 'sum', terms: [], latents: [{ latent: 1, weight: 1 }] })).toThrow(/target\.latents\[0\]\.sae/);
  });
});
