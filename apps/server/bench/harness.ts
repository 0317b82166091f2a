import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Builds the server bundle every bench spawns (`dist/main.js`), so a bench never measures a stale one. */
export function buildServer(): void {
  const result = spawnSync(process.execPath, ['build.mjs'], { cwd: SERVER_DIR, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`server build failed (exit ${result.status ?? result.signal})`);
}

/** `promise`, or an error after `ms`: a bench never waits without bound. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = sleep(ms, undefined, { ref: false }).then(() => {
    throw new Error(`${what} took over ${ms} ms`);
  });
  return Promise.race([promise, timeout]);
}
