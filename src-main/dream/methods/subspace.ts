// `subspace`: token embeddings confined to a k-dimensional affine subspace of the embedding space.
import { gradientFromTokens } from '../continuous.js';
import { subspaceParam } from '../params.js';
import { choice } from '../settings/kinds.js';
import { defineMethod } from './define.js';

export const settings = {
  basis: choice({ choices: ['pca', 'random'], default: 'pca', arg: '<pca|random>', description: "the subspace's basis: the embedding matrix's top principal directions, or random" }),
};

export default defineMethod(settings, {
  summary: 'gradient ascent on k coordinates per token in a subspace of the embedding space',
  order: 3,
  uses: ['batch', 'lr', 'init', 'decoder', 'fluency', 'manifold', 'k'],
  build: (inputs) => gradientFromTokens(inputs, (tokens) => subspaceParam(inputs.ctx.model, tokens, inputs.cfg.k, inputs.cfg.basis, inputs.cfg.seed)),
});
