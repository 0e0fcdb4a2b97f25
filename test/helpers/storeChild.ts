// A child process that writes to a store until it is killed (test/store-crash.test.ts sends SIGKILL).
//   node --import tsx test/helpers/storeChild.ts dream <db>            one dream run, step records forever
//   node --import tsx test/helpers/storeChild.ts scan <db> <corpus>    a scan of the planted model, checkpoint after every batch
// Each committed write is announced on stdout (`step N`, `checkpoint N`) so the parent knows writes are under way.
import { dreamConfig } from '../../src-main/dream/config.js';
import type { StepRecord } from '../../src-main/dream/loop.js';
import { SqliteStore } from '../../src-main/store/sqlite.js';
import { CHILD_DREAMS, CHILD_MODEL, CHILD_TOKENS } from './scanFixture.js';

const [mode, db, corpusPath] = process.argv.slice(2);
const store = new SqliteStore(db);
const say = (s: string) => process.stdout.write(s + '\n');


function record(step: number): StepRecord {
  const dreams = Array.from({ length: CHILD_DREAMS }, (_, i) => {
    const tokens = Array.from({ length: CHILD_TOKENS }, (_, t) => ` w${(step * 7 + i * 13 + t) % 997}`);
    const perToken = tokens.map((_, t) => Math.sin(step + i + t));
    return { text: tokens.join(''), ids: tokens.map((_, t) => t), tokens, perToken, max: Math.max(...perToken), mean: 0, value: Math.sin(step + i), ce: 4, label: `#${i}` };
  });
  return { step, soft: Math.cos(step), dreams, best: 0, forwardEquivalents: step, elapsedMs: step };
}

if (mode === 'dream') {
  const id = store.startDreamRun(CHILD_MODEL, dreamConfig({ target: { kind: 'neuron', layer: 1, neuron: 3 }, method: 'embed', every: 1, steps: 1_000_000 }));
  say(`run ${id}`);
  for (let step = 1; ; step++) {
    store.appendDreamStep(id, record(step));
    say(`step ${step}`);
  }
} else if (mode === 'scan') {
  const { initBackend } = await import('../../src-main/backend.js');
  const { loadScanCorpus } = await import('../../src-main/scan/corpus.js');
  const { runScan } = await import('../../src-main/scan/run.js');
  const { gpt2Tokenizer } = await import('../../src-main/train/lmCorpus.js');
  const { plantedModel } = await import('./plantedModel.js');
  const { SCAN_CONFIG, SCAN_MODEL } = await import('./scanFixture.js');
  await initBackend('wasm');
  const corpus = await loadScanCorpus(corpusPath, false);
  let n = 0;
  for await (const e of runScan({ model: plantedModel(), tokenizer: gpt2Tokenizer(), modelRef: SCAN_MODEL, corpus, config: SCAN_CONFIG, batch: 1, store, checkpointOverhead: Infinity })) {
    if (e.type === 'checkpoint') say(`checkpoint ${++n} ${e.windowsDone}`);
  }
  say('done');
} else {
  throw new Error(`storeChild: unknown mode ${mode}`);
}
