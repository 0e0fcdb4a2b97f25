import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs backends are process-global; one file per worker process keeps them isolated.
    pool: 'forks',
    fileParallelism: true,
    // vitest's default (cores − 1) runs one file at a time on a 2-core machine (CI's), with the second core mostly
    // idle: the suite's processes wait on child processes, Chromium and Redis as much as they compute. Two at a time
    // there took the suite from 1,376 s to 1,033 s (README, "Two commands").
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
