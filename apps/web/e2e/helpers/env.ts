import { existsSync } from 'node:fs';

/** The environment the browser tests read, in one place. */
export const e2eEnv = {
  /** Debian's chromium by default; CHROMIUM_PATH overrides (another distribution, a local install). */
  chromiumPath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
};

/** Whether a browser is there to drive; when not, the suite says why it skips. */
export function chromiumAvailable(): boolean {
  if (existsSync(e2eEnv.chromiumPath)) return true;
  console.warn(
    `[skipped] browser tests: no Chromium at ${e2eEnv.chromiumPath} (install Debian's chromium, or set CHROMIUM_PATH)`,
  );
  return false;
}
