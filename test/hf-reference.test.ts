// The shipped models against Hugging Face transformers, an implementation that shares no code with ours: the
// next-token losses of four texts that bench/hf-crosscheck.py computed with transformers' GPT2LMHeadModel and
// tokenizers on a GPU machine (test/fixtures/hf-reference-losses.json), reproduced here from the same folders.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { loadModel, projectRoot } from '../src-main/model/load.js';

const reference = JSON.parse(readFileSync(join(projectRoot(), 'test', 'fixtures', 'hf-reference-losses.json'), 'utf8')) as {
  models: Record<string, { text: string; ids: number[]; lossHF: number }[]>;
};

beforeAll(async () => {
  await initBackend('wasm');
});

describe.each(Object.entries(reference.models))('%s', (folder, texts) => {
  it('tokenises as tokenizers does and gives transformers\' next-token loss', async () => {
    const lm = await loadModel(join(projectRoot(), folder));
    try {
      for (const { text, ids, lossHF } of texts) {
        expect(lm.tokenizer.encode(text)).toEqual(ids);
        const n = ids.length - 1;
        const loss = tf.tidy(() => {
          const per = lm.model.tokenLoss({ ids: tf.tensor2d([ids.slice(0, n)], [1, n], 'int32') }, tf.tensor2d([ids.slice(1)], [1, n], 'int32'));
          return tf.mean(per).dataSync()[0];
        });
        expect(Math.abs(loss - lossHF), text).toBeLessThan(1e-4);
      }
    } finally {
      lm.model.dispose();
    }
  });
});
