// `seeded`: start from the corpus windows where the neuron fires most and edit a few words, keeping real English.
import { assessReadability } from '../../readability/assess.js';
import { editsAttested } from '../../readability/attestedEdits.js';
import { wordsFromOutside } from '../../readability/documentVocabulary.js';
import { INSERTABLE_WORDS } from '../../readability/insertions.js';
import { brownTagLexicon, isAdjectiveTag, isCommonNounTag, isDeletableTag, isVerbTag } from '../../readability/partOfSpeech.js';
import type { DreamConfig } from '../config.js';
import { ObjectiveError } from '../objectives.js';
import { chooseSeeds, SEED_CHOICE_FACTOR } from '../seedChoice.js';
import { seededMethod, type SeedWindow } from '../seeded.js';
import { choice, integer } from '../settings/kinds.js';
import { defineMethod } from './define.js';

export const settings = {
  maxEdits: integer({ min: 0, max: 1024, default: 2, arg: '<n>', description: 'token edits allowed away from the corpus window a dream starts from' }),
  seedEdits: choice({
    choices: ['part-of-speech', 'part-of-speech-keep-nouns', 'part-of-speech-with-adjectives', 'part-of-speech-with-verbs', 'any'],
    default: 'part-of-speech',
    arg: '<part-of-speech|part-of-speech-keep-nouns|part-of-speech-with-adjectives|part-of-speech-with-verbs|any>',
    label: 'edits',
    description:
      "part-of-speech: swap a word only for one of the same part of speech, keeping the sentence's grammar, and leave verbs and adjectives as they are (a verb chooses its complements: 'remain of the opinion' does not survive 'get'; an adjective its noun: 'a young man of good character' does not survive 'human'); part-of-speech-keep-nouns: common nouns too (names, adverbs and function words are still swapped); part-of-speech-with-adjectives: adjectives too; part-of-speech-with-verbs: verbs and adjectives too; any: any token among the model's top-p",
  }),
  editContext: choice({
    choices: ['any', 'attested'],
    default: 'any',
    arg: '<any|attested>',
    label: 'edit context',
    description: "attested: every edited token stays inside a word trigram the readability judge's text holds (an edit no real text surrounds that way reads as strained); any: no such test",
  }),
  editVocabulary: choice({
    choices: ['document', 'any'],
    default: 'any',
    arg: '<document|any>',
    label: 'edit vocabulary',
    description:
      "document: a swapped-in word must be one the seed's own document uses (or a plain insertable word), so the dream stays on its document's topic (\"The sympathy of the American people\" may become \"The doctrine of …\", not \"The herb of …\"); any: any word the other checks let through",
  }),
  insertWords: choice({
    choices: ['plain', 'none'],
    default: 'plain',
    arg: '<plain|none>',
    label: 'insertions',
    description:
      "plain: an edit may also insert one of a few plain words (also, not, only, just, first, …) after the first word, the dream keeping its length (two blind readers counted 2-3 more neurons with a readable dream at the corpus maximum); none: swaps only",
  }),
  insertOrder: choice({
    choices: ['sweep', 'random'],
    default: 'random',
    arg: '<sweep|random>',
    label: 'insertion order',
    description:
      "sweep: a search member that takes up a seed first tries every plain-word insertion the rule allows, then edits as before; random: insertions are drawn at random beside swaps and deletions",
  }),
  swapOrder: choice({
    choices: ['sweep', 'mixed', 'random'],
    default: 'random',
    arg: '<sweep|mixed|random>',
    label: 'swap order',
    description:
      "sweep: a search member that takes up a seed first tries, at each position, each of the gradient's proposals and of the 64 words the model finds likeliest there that the rule allows, once, in rounds by rank, then edits as before (it finds swaps the gradient ranks low, \"By June 7\" -> \"By September 7\", and one more neuron by the rule; blind readers counted no more neurons than with random); mixed: that sweep takes half of each step's candidates and the random draw the rest (by the rule 17 of the 24 bench neurons, read blind by four readers 14 each against 12-13 for random in the same reads); random: swaps drawn at random among the gradient's proposals only",
  }),
  deleteWords: choice({
    choices: ['modifiers', 'none'],
    default: 'modifiers',
    arg: '<modifiers|none>',
    label: 'deletions',
    description:
      "modifiers: an edit may also delete an adjective (before its noun), adverb or qualifier (by its part of speech), the dream pulling in the next word of its seed's document to keep its length; none: no deletions",
  }),
  editCheck: choice({
    choices: ['readable', 'form'],
    default: 'readable',
    arg: '<readable|form>',
    label: 'edit check',
    description:
      "readable: keep an edit only while the dream stays readable by the readability rule, beside its seed (needs the judge); form: check only the sentence's form and, with part-of-speech edits, its grammar",
  }),
};

/** Per --seed-edits kind, the words (by their most frequent tag) a swap leaves as they are; none for the others. */
const FIXED_TAGS: Partial<Record<DreamConfig['seedEdits'], (tag: string) => boolean>> = {
  'part-of-speech': (tag) => isVerbTag(tag) || isAdjectiveTag(tag),
  'part-of-speech-keep-nouns': (tag) => isVerbTag(tag) || isAdjectiveTag(tag) || isCommonNounTag(tag),
  'part-of-speech-with-adjectives': isVerbTag,
};

export default defineMethod(settings, {
  summary: 'edit a few words of the corpus windows where the neuron fires most',
  order: 6,
  uses: ['batch', 'lambdas', 'candidates', 'topK', 'topP', 'repetitionPenalty', 'judgeWeight'],
  async build({ ctx, target, objective, cfg, judgeTerm }) {
    if (!ctx.seedSource) throw new ObjectiveError('--method seeded needs a seed pool: corpus windows to start from (the CLI and the bench provide one)');
    const judge = ctx.judge;
    const { seeds: windows, cost } = await ctx.seedSource(target, cfg.reduce, cfg.seqLen, cfg.batch * SEED_CHOICE_FACTOR);
    const { seeds, reserve } = chooseSeeds(windows, cfg.batch, judge && ((text) => assessReadability(judge, text).readable));
    const tags = cfg.seedEdits === 'any' ? undefined : await brownTagLexicon();
    const fixedTags = FIXED_TAGS[cfg.seedEdits];
    // Deletions go by each word's part of speech, whatever the swaps go by.
    const deletionTags = cfg.deleteWords === 'modifiers' ? tags ?? (await brownTagLexicon()) : undefined;
    const deletable = deletionTags && ((word: string) => isDeletableTag(deletionTags.tagOf(word) ?? ''));
    let keepsEdit: ((seed: SeedWindow, text: string, seedNext?: string) => boolean) | undefined;
    if (cfg.editContext === 'attested') {
      if (!judge) throw new ObjectiveError('--edit-context attested needs the readability judge (resources/readability/judge.bin.gz, or build one with textdream build-judge)');
      keepsEdit = (seed, text) => editsAttested(judge, seed.text, text);
    }
    if (cfg.editVocabulary === 'document') {
      const bare = windows.find((w) => !w.docWords);
      if (bare) throw new ObjectiveError(`--edit-vocabulary document needs each seed's document words, and the seed source gave none for ${JSON.stringify(bare.text)}: use --edit-vocabulary any, or a seed source that gives them (dream/seedPool.ts)`);
      const before = keepsEdit;
      keepsEdit = (seed, text, seedNext) => (!before || before(seed, text, seedNext)) && wordsFromOutside(seed.docWords!, seed.text, text, seedNext).length === 0;
    }
    if (cfg.editCheck === 'readable') {
      // Searching only among readable states: a member that took an edit the rule refuses (less likely than its seed,
      // a third swapped word) held a dream that could never count, and often stayed there.
      if (!judge) throw new ObjectiveError("--edit-check readable needs the readability judge (resources/readability/judge.bin.gz, or build one with textdream build-judge); or use --edit-check form");
      const earlier = keepsEdit;
      keepsEdit = (seed, text, seedNext) => (!earlier || earlier(seed, text, seedNext)) && assessReadability(judge, text, { seedText: seed.text, seedNext }).readable;
    }
    return seededMethod(ctx.model, ctx.tokenizer, target, objective, cfg, seeds, cost, judgeTerm, { tags, fixedTags, keepsEdit, evaluate: ctx.candidateEvaluator, reserve, insertWords: cfg.insertWords === 'plain' ? INSERTABLE_WORDS : undefined, insertSweep: cfg.insertOrder === 'sweep', swapSweep: cfg.swapOrder !== 'random', ...(cfg.swapOrder === 'mixed' ? { swapSweepShare: 0.5 } : {}), deletable });
  },
});
