import { defineConfig } from 'vitest/config';

/** Unit, store and integration tests: in-process servers, run in parallel. */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/faults/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Servers and PGlite instances are real; two cores, so keep files from piling up.
    maxWorkers: 2,
  },
});
