/** The environment the tests read, in one place. */
export const testEnv = {
  databaseUrl: process.env.DATABASE_URL,
};

/** Prints why a suite does not run, so a skip is never silent. */
export function announceSkip(suite: string, reason: string): void {
  console.warn(`[skipped] ${suite}: ${reason}`);
}
