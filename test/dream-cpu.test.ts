// The dreaming suite on cpu (test/helpers/dreamSuite.ts).
import { describe } from 'vitest';
import { dreamSuite } from './helpers/dreamSuite.js';

describe('dreaming on cpu', () => dreamSuite('cpu'));
