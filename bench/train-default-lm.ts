// The exact command that trains the embedded default model (also reachable as `textdream train-lm`).
import { initBackend } from '../src-main/backend.js';
import { defaultModelDir } from '../src-main/model/load.js';
import { DEFAULT_TRAIN_LM, runTrainLM } from '../src-main/train/trainLMJob.js';
const info = await initBackend(process.env.TEXTDREAM_BACKEND ?? 'auto');
console.log(`backend ${info.name}`);
const { completed, trainer } = await runTrainLM({ corpus: 'brown+sotu', options: DEFAULT_TRAIN_LM, workDir: '.cache/train-lm', outDir: defaultModelDir(), log: console.log });
trainer.dispose();
process.exit(completed ? 0 : 3);
