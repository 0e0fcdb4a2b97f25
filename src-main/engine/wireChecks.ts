// Compile-time proof that what the engine sends is what the contract (api/wire.ts) says crosses the wire.
// wire.ts derives these types from the engine's (type-only imports of dependency-free modules), with the config
// loosened where the wire takes unchecked input; if either side changes, this file stops compiling. Nothing here runs.
import type { DreamOutcome, DreamSample, DreamSettings, DreamStep, MnistSettings, MnistStep, RunDetail, RunSummary } from '../api/contract.js';
import type { MnistDreamConfig } from '../mnist/config.js';
import type { MnistStepRecord } from '../mnist/dream.js';
import type { DreamConfig } from '../dream/config.js';
import type { Dream, DreamResult, StepRecord } from '../dream/loop.js';
import type { DreamRunDetail, DreamRunSummary } from '../store/types.js';

type Assignable<From extends To, To> = [From, To];

export type WireChecks = [
  Assignable<Dream, DreamSample>,
  Assignable<StepRecord, DreamStep>,
  Assignable<DreamResult, DreamOutcome>,
  Assignable<DreamConfig, DreamSettings>,
  Assignable<DreamRunSummary, RunSummary>,
  Assignable<DreamRunDetail, RunDetail>,
  // Settings from the wire reach the engine's config only through dreamConfig (engine/validate.ts): each method's own
  // settings are known there, from its declarations, not to the contract.
  Assignable<MnistStepRecord, MnistStep>,
  Assignable<Omit<MnistDreamConfig, 'space'>, MnistSettings>,
  Assignable<MnistSettings, Omit<MnistDreamConfig, 'space'>>,
];
