// A training command's --work folder may hold a checkpoint of another shape, which cannot be resumed: say so before
// any work is done (train-lm, train-sae).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './command.js';

/** `what`: what the checkpoint holds ("shape", "SAE"); `flags`: the flags that set it, for the fix. */
export function checkResumable(workDir: string, shape: unknown, what: string, flags: string): void {
  const stateFile = join(workDir, 'checkpoint', 'state.json');
  if (!existsSync(stateFile)) return;
  let saved: { step?: number; options?: { shape?: unknown } };
  try {
    saved = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    throw new UsageError(`${stateFile} is not valid JSON: delete ${join(workDir, 'checkpoint')} to start over, or use another --work`);
  }
  if (JSON.stringify(saved.options?.shape) !== JSON.stringify(shape)) {
    throw new UsageError(
      `--work ${workDir} holds a checkpoint (step ${saved.step ?? '?'}) of another ${what} ${JSON.stringify(saved.options?.shape)}; ` +
        `the requested ${what} is ${JSON.stringify(shape)}. Use another --work, the same ${flags}, or delete ${join(workDir, 'checkpoint')}`,
    );
  }
}
