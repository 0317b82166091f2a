import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Some suites start a real server process (and nginx) in beforeAll: vitest's 10 s default
    // is too short on a loaded machine, as the server's own suites found before.
    hookTimeout: 60_000,
  },
});
