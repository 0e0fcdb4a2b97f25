// `embed`: the baseline. Adam on free token embeddings; the text is their nearest tokens.
import { gradientFromTokens } from '../continuous.js';
import { tokenEmbeddingParam } from '../params.js';
import { defineMethod } from './define.js';

export const settings = {};

export default defineMethod(settings, {
  summary: 'gradient ascent on free token embeddings (the baseline: fast, rarely readable)',
  order: 0,
  uses: ['batch', 'lr', 'init', 'decoder', 'fluency', 'manifold'],
  build: (inputs) => gradientFromTokens(inputs, (tokens) => tokenEmbeddingParam(inputs.ctx.model, tokens)),
});
