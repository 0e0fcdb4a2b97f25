// `beam`: left-to-right beam search over the model's top-p next tokens, scored by activation − λ·CE.
import { beamMethod } from '../beam.js';
import { integer } from '../settings/kinds.js';
import { defineMethod } from './define.js';

export const settings = {
  beamWidth: integer({ min: 1, max: 256, default: 3, arg: '<n>', label: 'beam width', description: 'beams kept per λ' }),
  expand: integer({ min: 1, max: 512, default: 12, arg: '<n>', description: "next tokens tried per beam, among the model's top-p" }),
};

export default defineMethod(settings, {
  summary: "beam search left to right over the model's likely next tokens",
  order: 5,
  uses: ['lambdas', 'topP', 'repetitionPenalty', 'judgeWeight'],
  build: ({ ctx, target, cfg, judgeTerm }) => beamMethod(ctx.model, ctx.tokenizer, target, cfg, judgeTerm),
});
