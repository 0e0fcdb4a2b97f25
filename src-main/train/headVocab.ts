// Head-vocabulary softmax for training: most steps normalise over the most frequent training tokens plus the
// batch's own targets instead of all 50,257 (the unembedding is ~85 % of a step's cost on wasm); periodic and
// final full-softmax steps calibrate the rare tail. Evaluation always uses the full softmax.

/** The `size` most frequent token ids of `stream` (ties broken by id), ascending. */
export function headVocabulary(stream: Int32Array, vocabSize: number, size: number): Int32Array {
  const counts = new Float64Array(vocabSize);
  for (const t of stream) counts[t] += 1;
  const order = Array.from({ length: vocabSize }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  return Int32Array.from(order.slice(0, Math.min(size, vocabSize))).sort();
}

/** Candidates = head ∪ targets (ascending), and each target's index among them. */
export function candidateBatch(head: Int32Array, targets: Int32Array): { vocab: Int32Array; targets: Int32Array } {
  const set = new Set<number>(head);
  for (const t of targets) set.add(t);
  const vocab = Int32Array.from(set).sort();
  const index = new Map<number, number>();
  vocab.forEach((v, i) => index.set(v, i));
  return { vocab, targets: targets.map((t) => index.get(t)!) };
}

/** Whether step `step` (0-based) of `total` uses the full softmax. */
export function fullSoftmaxStep(step: number, total: number, every: number, finalFraction: number): boolean {
  return step % every === every - 1 || step >= total * (1 - finalFraction);
}
