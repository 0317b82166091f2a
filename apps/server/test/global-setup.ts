import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Fault tests run the real bundle (`dist/main.js`), so build it first (esbuild: well under a second). */
export default function setup(): void {
  execFileSync(process.execPath, ['build.mjs'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: 'inherit',
  });
}
