// Objective expressions (`--objective "L2N100 - 0.5*L2N7"`): parsed terms against terms written out by hand, the
// errors that say where and what, and the round trip through the formatter.
import { describe, expect, it } from 'vitest';
import { formatObjectiveExpression, parseObjectiveExpression } from '../src-main/dream/objectiveExpression.js';

describe('objective expressions', () => {
  it('reads weighted sums and differences of neurons', () => {
    expect(parseObjectiveExpression('L2N100')).toEqual([{ layer: 2, neuron: 100, weight: 1 }]);
    expect(parseObjectiveExpression('L2N100 - 0.5*L2N7')).toEqual([
      { layer: 2, neuron: 100, weight: 1 },
      { layer: 2, neuron: 7, weight: -0.5 },
    ]);
    expect(parseObjectiveExpression(' 0.8 * l2n100-0.2L2N7 + L0N3*3 ')).toEqual([
      { layer: 2, neuron: 100, weight: 0.8 },
      { layer: 2, neuron: 7, weight: -0.2 },
      { layer: 0, neuron: 3, weight: 3 },
    ]);
    expect(parseObjectiveExpression('-L1N2 + .5e1*L3N4')).toEqual([
      { layer: 1, neuron: 2, weight: -1 },
      { layer: 3, neuron: 4, weight: 5 },
    ]);
  });

  it('merges terms that name the same neuron', () => {
    expect(parseObjectiveExpression('L1N2 + L1N2 - 0.5*L1N2')).toEqual([{ layer: 1, neuron: 2, weight: 1.5 }]);
  });

  it('says what it expected and where', () => {
    expect(() => parseObjectiveExpression('')).toThrow(/objective is empty/);
    expect(() => parseObjectiveExpression('L2N100 -')).toThrow(/expected a neuron \(L<layer>N<neuron>\), a latent \(sae:<where>:<latent>\) or a weight at the end/);
    expect(() => parseObjectiveExpression('L2N100 L2N7')).toThrow(/expected "\+" or "-" between terms at character 8/);
    expect(() => parseObjectiveExpression('0.5 *')).toThrow(/a neuron \(L<layer>N<neuron>\) or latent \(sae:<where>:<latent>\) after the weight at the end/);
    expect(() => parseObjectiveExpression('L2N100 * L3N1')).toThrow(/a weight after "\*" at character 10/);
    expect(() => parseObjectiveExpression('L2N100 / 2')).toThrow(/cannot read "\/ 2" at character 8/);
    expect(() => parseObjectiveExpression('neuron 5')).toThrow(/cannot read "neuron 5" at character 1/);
    expect(() => parseObjectiveExpression('L1N2 - L1N2')).toThrow(/every weight is zero/);
  });

  it('formats terms so that parsing them back gives the same terms', () => {
    for (const src of ['L2N100', 'L2N100 - 0.5*L2N7', '-2*L0N1 + 0.25*L3N9 - L1N1', 'sae:L2.resid_pre:123 - 0.5*L1N7', '-sae:/tmp/my-sae:4 + 3*sae:L1.mlp_out:0']) {
      const terms = parseObjectiveExpression(src);
      expect(formatObjectiveExpression(terms)).toBe(src);
      expect(parseObjectiveExpression(formatObjectiveExpression(terms))).toEqual(terms);
    }
  });

  it('reads SAE latents as terms beside neurons, merging repeats', () => {
    expect(parseObjectiveExpression('sae:L2.resid_pre:123')).toEqual([{ sae: 'L2.resid_pre', latent: 123, weight: 1 }]);
    expect(parseObjectiveExpression('SAE:L2.resid_pre:123 - 0.5*L1N7')).toEqual([
      { sae: 'L2.resid_pre', latent: 123, weight: 1 },
      { layer: 1, neuron: 7, weight: -0.5 },
    ]);
    expect(parseObjectiveExpression(' 2 sae:/data/saes/blocks.0.hook_resid_post:9 + sae:/data/saes/blocks.0.hook_resid_post:9*0.5 ')).toEqual([
      { sae: '/data/saes/blocks.0.hook_resid_post', latent: 9, weight: 2.5 },
    ]);
    // the same latent number in two SAEs is two terms
    expect(parseObjectiveExpression('sae:a:1 + sae:b:1')).toHaveLength(2);
    expect(() => parseObjectiveExpression('sae:L2.resid_pre')).toThrow(/cannot read "sae:L2.resid" at character 1: write an SAE latent as sae:/);
    expect(() => parseObjectiveExpression('0.5 * +')).toThrow(/a neuron \(L<layer>N<neuron>\) or latent \(sae:<where>:<latent>\) after the weight/);
    expect(() => parseObjectiveExpression('sae:a:1 - sae:a:1')).toThrow(/every weight is zero/);
  });
});
