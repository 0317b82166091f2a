import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/**
 * PGlite's defaults, with shared_buffers at 16 MB instead of 128 MB: PGlite
 * zero-fills its shared buffers at start, so their whole size is resident
 * memory, and one connection over a chat's working set does not need them.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/**
 * Creates the database files (initdb) in a child process that exits when done.
 * Done in-process, initdb leaves ~450 MiB of garbage and fragmented heap behind
 * that an idle server never gives back (it idled at ~800 MiB RSS).
 */
function initializeInChild(dataDir: string): Promise<void> {
  const script = `const { PGlite } = await import(process.argv[1]);
    const db = await PGlite.create(process.argv[2]);
    await db.close();`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', script, import.meta.resolve('@electric-sql/pglite'), dataDir],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2_000);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new Error(`PGlite could not create its database in ${dataDir} (${code ?? signal}): ${stderr.trim()}`));
    });
  });
}

/** PGlite on `dataDir` (in memory when undefined), its files created first when the directory is new. */
export async function openPglite(dataDir: string | undefined): Promise<PGlite> {
  if (dataDir && !existsSync(join(dataDir, 'PG_VERSION'))) await initializeInChild(dataDir);
  return PGlite.create({ dataDir, startParams: START_PARAMS });
}
