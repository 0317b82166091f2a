import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // PGlite instances are real; two cores, so keep files from piling up.
    maxWorkers: 2,
  },
});
