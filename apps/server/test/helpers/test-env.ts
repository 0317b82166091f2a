/** The environment the tests read, in one place. */
export const testEnv = {
  databaseUrl: process.env.DATABASE_URL,
  /** What a spawned process needs to run; nothing else leaks in (no DATABASE_URL: spawned servers use PGlite). */
  processBase: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
};

/** Prints why a suite does not run, so a skip is never silent. */
export function announceSkip(suite: string, reason: string): void {
  console.warn(`[skipped] ${suite}: ${reason}`);
}
