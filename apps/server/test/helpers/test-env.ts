export { announceSkip } from '@tether/server-core/testing';

/** The environment the tests read, in one place. */
export const testEnv = {
  databaseUrl: process.env.DATABASE_URL,
  /** What a spawned process needs to run; nothing else leaks in (no DATABASE_URL: spawned servers use PGlite). */
  processBase: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
};
