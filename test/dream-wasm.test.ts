// The dreaming suite on wasm (test/helpers/dreamSuite.ts).
import { describe } from 'vitest';
import { dreamSuite } from './helpers/dreamSuite.js';

describe('dreaming on wasm', () => dreamSuite('wasm'));
