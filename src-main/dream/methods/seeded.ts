// `seeded`: start from the corpus windows where the neuron fires most and edit a few words, keeping real English.
import { editsAttested } from '../../readability/attestedEdits.js';
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
  editContext: choice({
    choices: ['any', 'attested'],
    default: 'any',
    arg: '<any|attested>',
    label: 'edit context',
    description: "attested: every edited token stays inside a word trigram the readability judge's text holds (an edit no real text surrounds that way reads as strained); any: no such test",
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
    let keepsEdit: ((seed: string, text: string) => boolean) | undefined;
    if (cfg.editContext === 'attested') {
      const judge = ctx.judge;
      if (!judge) throw new ObjectiveError('--edit-context attested needs the readability judge (resources/readability/judge.bin.gz, or build one with textdream build-judge)');
      keepsEdit = (seed, text) => editsAttested(judge, seed, text);
    }
    return seededMethod(ctx.model, ctx.tokenizer, target, objective, cfg, seeds, cost, judgeTerm, { tags, keepsEdit, evaluate: ctx.candidateEvaluator });
  },
});
