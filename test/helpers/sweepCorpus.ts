// A small corpus of plain sentences for sweep tests (scan, dream and explain run on it in seconds), written as
// JSON lines with one document per text.
import { writeFileSync } from 'node:fs';

export const SWEEP_TEXTS = [
  'The cat sat on the mat while the dog slept by the door. A bird sang in the tree and the sun rose over the hills.',
  'In the morning the farmer walked to the market with his son. They sold apples, pears and a basket of fresh eggs.',
  "The president spoke to the nation about the economy, the war and the future of the country's schools.",
  'She opened the old book and read a story about a king who lost his crown in a river near the castle.',
  'Rain fell all night on the quiet town. In the morning the streets were wet and the children played in the puddles.',
  'Scientists measured the temperature of the water every hour and wrote the numbers in a small notebook.',
  'The train left the station at noon. Passengers watched the fields and the villages pass by the windows.',
  'He wrote a letter to his mother, telling her about the new job, the city and the friends he had made.',
];

/** `texts` repeated `copies` times as documents d0, d1, … in a .jsonl file. */
export function writeSweepCorpus(file: string, texts: readonly string[] = SWEEP_TEXTS, copies = 3): void {
  const all = Array.from({ length: copies }, () => texts).flat();
  writeFileSync(file, all.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join('\n') + '\n');
}
