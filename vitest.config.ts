import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two files share two cores (maxWorkers below): a test's time can double when its neighbour computes too (eval-lm
    // with --samples: 58 s alone, 78 s beside another file, 134 s with a bench on the side), so the limits leave room.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // tfjs backends are process-global; one file per worker process keeps them isolated.
    pool: 'forks',
    fileParallelism: true,
    // vitest's default (cores − 1) runs one file at a time on a 2-core machine (CI's), with the second core mostly
    // idle: the suite's processes wait on child processes, Chromium and Redis as much as they compute. Two at a time
    // there took the suite from 1,376 s to 1,033 s (README, "Two commands").
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
