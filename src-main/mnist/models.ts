// Where the shipped MNIST weights live, and loading all three networks at once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../model/load.js';
import { ModelFileError } from '../model/errors.js';
import type { MnistModels } from './dream.js';
import { disposeNet, loadNet, NET_NAMES, type NetName } from './nets.js';

/** resources/mnist in the project. */
export function defaultMnistDir(): string {
  return join(projectRoot(), 'resources', 'mnist');
}

export function netFile(dir: string, name: NetName): string {
  return join(dir, `${name}.safetensors`);
}

/** The classifier, the judge and the autoencoder from `dir` (default resources/mnist). */
export async function loadMnistModels(dir: string = defaultMnistDir()): Promise<MnistModels> {
  for (const name of NET_NAMES) {
    const file = netFile(dir, name);
    if (!existsSync(file)) throw new ModelFileError(`the MNIST ${name} weights are missing`, file, 'run `textdream train-mnist` (about 5 minutes) or pass --weights <dir>');
  }
  const [classifier, judge, autoencoder] = await Promise.all(NET_NAMES.map((n) => loadNet(n, netFile(dir, n))));
  return { classifier, judge, autoencoder };
}

export function disposeMnistModels(m: MnistModels): void {
  disposeNet(m.classifier);
  disposeNet(m.judge);
  disposeNet(m.autoencoder);
}
