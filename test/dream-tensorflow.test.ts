// The dreaming suite on native TensorFlow (tfjs-node), where it is installed (test/helpers/backends.ts).
import { describe } from 'vitest';
import { nativeInstalled } from './helpers/backends.js';
import { dreamSuite } from './helpers/dreamSuite.js';

describe.skipIf(!nativeInstalled())('dreaming on tensorflow (tfjs-node)', () => dreamSuite('tensorflow'));
