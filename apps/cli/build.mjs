// One self-contained bundle for the `tether` bin. Commands are split into
// chunks loaded on demand, so `tether --help` parses only the entry.
import { chmod } from 'node:fs/promises';
import { build } from 'esbuild';

await build({
  entryPoints: { tether: 'src/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ws is CommonJS and requires Node built-ins; an ESM bundle needs `require` provided.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __tetherRequire } from 'node:module';\nconst require = __tetherRequire(import.meta.url);",
  },
  // ws loads these optional native speed-ups when present.
  external: ['bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
});
await chmod('dist/tether.js', 0o755);
