// A sweep page's dreams and the one the neuron browser shows (sweep/page.ts), on hand-built dream results: the most
// activating readable dream over the methods wins over a more activating unreadable one, and a corpus-seeded window
// no edit changed is corpus text, never shown as a readable dream even when the readability rule accepts its text.
import { describe, expect, it } from 'vitest';
import type { Dream, DreamResult } from '../src-main/dream/records.js';
import type { ExplanationRun } from '../src-main/explain/pipeline.js';
import { buildSweepPage, pageDream } from '../src-main/sweep/page.js';

const dream = (text: string, value: number, readable: boolean, edits?: number): Dream =>
  ({
    label: 'b0',
    text,
    ids: [],
    tokens: [],
    perToken: [value],
    max: value,
    mean: value,
    value,
    ce: 5,
    readability: { percentile: readable ? 40 : 1, readable },
    ...(edits === undefined ? {} : { origin: { seedText: ' a seed window', seedValue: 1, seedDoc: 'doc', edits } }),
  }) as unknown as Dream;

const result = (method: string, best: Dream, bestReadable: Dream | null): DreamResult =>
  ({ method, steps: 3, best, bestReadable, bestPerLabel: [best] }) as unknown as DreamResult;

const explanation = { explanation: 'x', explainer: 'offline', simulator: 'offline', withDreams: false, score: { all: 0.5, top: 0.4, random: 0.1 } } as unknown as ExplanationRun;
const page = (dreams: DreamResult[]) => buildSweepPage({ layer: 1, neuron: 2, stats: null, maxActivation: 4, dreams, explanation });

describe('a sweep page\'s shown dream', () => {
  it('is the most activating readable dream over the methods, before a more activating unreadable one', () => {
    const p = page([
      result('embed', dream(' salad salad', 9, false), null),
      result('seeded', dream(' a seed window', 6, true, 0), dream(' a seed windows', 5, true, 1)),
      result('beam', dream(' the beam text', 4, true), dream(' the beam text', 4, true)),
    ]);
    expect(pageDream(p)).toMatchObject({ text: ' a seed windows', value: 5, readable: true, edits: 1 });
  });

  it('marks an unedited seed as not readable, and shows the most activating dream when no method has a readable one', () => {
    const p = page([result('embed', dream(' salad salad', 3, false), null), result('seeded', dream(' a seed window', 6, true, 0), null)]);
    expect(p.dreams[1].best).toMatchObject({ text: ' a seed window', readable: false, edits: 0 });
    expect(p.dreams[0].best).toMatchObject({ readable: false, edits: null });
    expect(pageDream(p)).toMatchObject({ text: ' a seed window', value: 6, readable: false });
  });
});
