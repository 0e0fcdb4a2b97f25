import { readFile } from 'node:fs/promises';
/**
 * An error about a model file (or folder, or hub id) that a user can act on: it names the file,
 * says what is wrong with it, and says what to do. The CLI and UI print `message` as is.
 */
export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';

  constructor(
    readonly problem: string,
    readonly file: string,
    readonly fix: string,
  ) {
    super(`${file}: ${problem}. Fix: ${fix}`);
  }
}

/** Read and parse a model folder's JSON file; a missing file or broken JSON is a ModelFileError naming the fix. */
export async function readModelJSON(file: string, missingFix: string, name: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ModelFileError('missing', file, missingFix);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`not valid JSON (${(e as Error).message})`, file, `restore ${name} from the checkpoint`);
  }
}
