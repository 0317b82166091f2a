import { defineConfig } from 'vitest/config';

/**
 * Fault tests: real server processes killed, frozen and flooded. One file at a
 * time, so heartbeat windows are not stretched by another file's load.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
