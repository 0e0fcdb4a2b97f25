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
