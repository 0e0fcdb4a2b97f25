// `seeded`: start from the corpus windows where the neuron fires most and edit a few words, keeping real English.
import { brownTagLexicon } from '../../readability/partOfSpeech.js';
import { ObjectiveError } from '../objectives.js';
import { seededMethod } from '../seeded.js';
import { choice, integer } from '../settings/kinds.js';
import { defineMethod } from './define.js';

export const settings = {
  maxEdits: integer({ min: 0, max: 1024, default: 2, arg: '<n>', description: 'token edits allowed away from the corpus window a dream starts from' }),
  seedEdits: choice({
    choices: ['part-of-speech', 'any'],
    default: 'part-of-speech',
    arg: '<part-of-speech|any>',
    label: 'edits',
    description: "part-of-speech: swap a word only for one of the same part of speech, keeping the sentence's grammar; any: any token among the model's top-p",
  }),
};

export default defineMethod(settings, {
  summary: 'edit a few words of the corpus windows where the neuron fires most',
  order: 6,
  uses: ['batch', 'lambdas', 'candidates', 'topK', 'topP', 'repetitionPenalty', 'judgeWeight'],
  async build({ ctx, target, objective, cfg, judgeTerm }) {
    if (!ctx.seedSource) throw new ObjectiveError('--method seeded needs a seed pool: corpus windows to start from (the CLI and the bench provide one)');
    const { seeds, cost } = await ctx.seedSource(target, cfg.reduce, cfg.seqLen, cfg.batch);
    const tags = cfg.seedEdits === 'part-of-speech' ? await brownTagLexicon() : undefined;
    return seededMethod(ctx.model, ctx.tokenizer, target, objective, cfg, seeds, cost, judgeTerm, tags, ctx.candidateEvaluator);
  },
});
