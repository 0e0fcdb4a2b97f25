// `fluent`: discrete search over token swaps the model finds plausible, one population member per fluency weight λ.
import { fluentMethod } from '../fluent.js';
import { defineMethod } from './define.js';

export const settings = {};

export default defineMethod(settings, {
  summary: 'swap tokens for ones the model finds plausible, one dream per λ of the fluency sweep',
  order: 2,
  uses: ['init', 'lambdas', 'candidates', 'topK', 'topP', 'repetitionPenalty', 'judgeWeight'],
  samplesByDefault: true,
  async build({ ctx, target, objective, cfg, startTokens, judgeTerm }) {
    const { tokens, cost } = await startTokens(cfg.lambdas.length);
    return fluentMethod(ctx.model, ctx.tokenizer, target, objective, cfg, tokens, cost, judgeTerm, ctx.candidateEvaluator);
  },
});
