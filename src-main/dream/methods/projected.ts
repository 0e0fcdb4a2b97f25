// `projected`: embeddings optimised continuously, but the model reads their projection onto the nearest tokens
// (straight-through), so the soft objective is the hard one's neighbour.
import { gradientFromTokens } from '../continuous.js';
import { projectedParam } from '../params.js';
import { defineMethod } from './define.js';

export const settings = {};

export default defineMethod(settings, {
  summary: 'gradient ascent on embeddings that the model reads projected onto their nearest tokens',
  order: 1,
  uses: ['batch', 'lr', 'init', 'decoder', 'fluency', 'manifold'],
  build: (inputs) => gradientFromTokens(inputs, (tokens) => projectedParam(inputs.ctx.model, tokens, inputs.cfg.decoder)),
});
