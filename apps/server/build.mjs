// Bundles the server to one ESM file. Workspace packages (TypeScript source) are
// bundled in; npm dependencies stay external (PGlite ships WebAssembly beside its JS).
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const external = Object.keys(pkg.dependencies).filter((name) => !name.startsWith('@tether/'));

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external,
  logLevel: 'warning',
});

// Worker threads (PGlite's, password hashing's) are plain JavaScript, loaded by URL beside the bundle.
mkdirSync('dist', { recursive: true });
copyFileSync('../../packages/server-core/src/store/pglite-worker.mjs', 'dist/pglite-worker.mjs');
copyFileSync('src/chat/password-worker.mjs', 'dist/password-worker.mjs');
