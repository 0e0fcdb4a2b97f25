// Settings declared once for every method (COMMON) and settings several methods share (SHARED: a method lists the
// ones it reads in its own file). A setting only one method reads is declared in that method's file.
import { choice, integer, number, numbers, text } from './kinds.js';

export const DECODER_NAMES = ['cosine', 'dot', 'lens'] as const;

export const COMMON_SETTINGS = {
  reduce: choice({ choices: ['mean', 'max', 'last'], default: 'mean', arg: '<mean|max|last>', description: 'how per-token activations make one value' }),
  transform: choice({
    choices: ['none', 'sigmoid'],
    default: 'none',
    arg: '<none|sigmoid>',
    description: 'optimise the activation itself, or its sigmoid (soft objective only; hard values stay raw)',
    cliSwitch: { flag: 'sigmoid', value: 'sigmoid', description: 'optimise sigmoid(activation) (soft objective only; hard values stay raw)' },
  }),
  steps: integer({ min: 1, max: 1_000_000, default: 40, arg: '<n>', description: 'optimisation steps' }),
  seqLen: integer({ min: 1, max: 1023, default: 10, arg: '<T>', modelLimit: 'context', description: 'free tokens per dream, after an <|endoftext|> prefix' }),
  seed: integer({ min: 0, max: 2 ** 31 - 1, default: 0, arg: '<s>', description: 'random seed; the same seed gives the same dream' }),
  every: integer({ min: 1, max: 1_000_000, default: 5, arg: '<n>', description: 'hard-evaluate and report every n steps, and at the last' }),
  prompt: text({ maxLength: 10_000, arg: '<text>', nonEmpty: 'give some text or leave it out', description: 'start from this text (repeated to fill --seq-len) instead of random tokens' }),
};

export const SHARED_SETTINGS = {
  batch: integer({ min: 1, max: 256, default: 6, arg: '<B>', description: 'dreams optimised (or seed windows edited) in parallel' }),
  lr: number({ min: 0, default: 0.05, arg: '<x>', description: 'learning rate of the gradient methods' }),
  init: choice({
    choices: ['auto', 'random', 'samples'],
    default: 'auto',
    arg: '<auto|random|samples>',
    description: "without --prompt: random tokens, or the model's own top-p samples; auto = samples for fluent",
  }),
  decoder: choice({ choices: DECODER_NAMES, default: 'cosine', arg: `<${DECODER_NAMES.join('|')}>`, description: 'embedding → token decoder of the gradient methods' }),
  fluency: number({ min: 0, default: 0, arg: '<λ>', label: 'fluency λ', description: "weight of the model's own cross-entropy of the text" }),
  manifold: number({ min: 0, default: 0, arg: '<w>', description: 'weight of the distance to the nearest token embedding' }),
  k: integer({ min: 1, max: 4096, default: 32, arg: '<k>', description: 'size of the latent the dream is searched in (subspace: its basis; latent: which sentence autoencoder)' }),
  lambdas: numbers({ min: 0, minItems: 1, maxItems: 64, default: [0, 0.1, 0.3, 1], arg: '<λ,...>', label: 'λ sweep', description: 'the λ sweep (fluency weights), one dream per value' }),
  candidates: integer({ min: 1, max: 4096, default: 12, arg: '<n>', description: 'token swaps tried per dream per step' }),
  topK: integer({ min: 1, max: 50257, default: 24, arg: '<n>', modelLimit: 'vocab', description: 'tokens proposed per position' }),
  topP: number({ min: 0, max: 1, default: 0, arg: '<p>', description: "keep proposals inside the model's top-p next-token mass; 0 = off" }),
  repetitionPenalty: number({ min: 0, default: 0, arg: '<ρ>', label: 'repetition ρ', description: 'subtracted from the search score per repeated word occurrence' }),
  judgeWeight: number({ min: 0, default: 0, arg: '<σ>', label: 'judge σ', description: "weight of the readability judge's score in the search" }),
};

export type SharedSettingName = keyof typeof SHARED_SETTINGS;
