// The explanation protocol's data: activation records (a text as tokens with one neuron's activation on each),
// the records a neuron's explanation is built and scored on, and the two roles every explainer backend plays.

/** One text as tokens, with the neuron's raw activation on each token. */
export interface ActivationRecord {
  tokens: string[];
  activations: number[];
}

/** What we know of one neuron before explaining it: its top-activating records and random ones. */
export interface NeuronRecords {
  layer: number;
  neuron: number;
  /** Records with the highest activation (by each record's max), highest first. */
  top: ActivationRecord[];
  /** Records drawn at random from the same corpus (not among `top`). */
  random: ActivationRecord[];
  /** The neuron's largest activation over the corpus: activations are scaled to 0-10 by it. */
  maxActivation: number;
}

/** What an explainer sees: real top records and, optionally, synthetic ones (dreams), on one scale. */
export interface ExplainInput {
  layer: number;
  neuron: number;
  records: ActivationRecord[];
  /** Dreamed texts, shown as synthetic; empty without dreams. */
  synthetic: ActivationRecord[];
  /** Scale for both kinds (synthetic activations above it are shown as 10). */
  maxActivation: number;
}

/** Writes an explanation: a short phrase completing "the main thing this neuron does is find …". */
export interface Explainer {
  readonly name: string;
  explain(input: ExplainInput, signal?: AbortSignal): Promise<string>;
}

/** Predicts, from the explanation alone, an activation 0-10 for every token of a text ("all at once"). */
export interface Simulator {
  readonly name: string;
  simulate(explanation: string, tokens: string[], signal?: AbortSignal): Promise<number[]>;
}
