import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { StoreError } from './store-errors';

/**
 * PGlite's defaults, with shared_buffers at 16 MB instead of 128 MB: PGlite
 * zero-fills its shared buffers at start, so their whole size is resident
 * memory, and one connection over a chat's working set does not need them.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/** A thread that has not stopped by then is stuck outside JavaScript (a system call on a hung disk). */
const TERMINATE_TIMEOUT_MS = 5_000;

/** Emscripten's errno for ENOSPC, as PGlite reports a full disk while creating its files. */
const EMSCRIPTEN_ENOSPC = 51;

/** A statement's error as it crossed the thread boundary. */
interface ErrorDescription {
  name: string;
  message: string;
  code?: string;
  severity?: string;
  errno?: number;
}

function toError(description: ErrorDescription): Error {
  const error = new Error(description.message) as Error & { code?: string; severity?: string };
  error.name = description.name;
  if (description.errno === EMSCRIPTEN_ENOSPC) error.code = 'ENOSPC';
  if (description.code) error.code = description.code;
  if (description.severity) error.severity = description.severity;
  return error;
}

/**
 * Creates the database files (initdb) in a child process that exits when done.
 * Done in-process, initdb leaves ~450 MiB of garbage and fragmented heap behind
 * that an idle server never gives back (it idled at ~800 MiB RSS).
 */
function initializeInChild(dataDir: string): Promise<void> {
  const script = `const { PGlite } = await import(process.argv[1]);
    try {
      const db = await PGlite.create(process.argv[2]);
      await db.close();
    } catch (error) {
      const reason = error?.errno === ${EMSCRIPTEN_ENOSPC} ? 'no space left on device'
        : error?.message || error?.code || (error?.errno !== undefined ? 'errno ' + error.errno : String(error));
      console.error(reason);
      process.exit(1);
    }`;
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
        reject(new Error(`PGlite could not create its database in ${dataDir}: ${stderr.trim() || (code ?? signal)}`));
    });
  });
}

/**
 * initdb into a sibling directory, moved into place only once complete: an
 * initdb cut short (a full disk) must not leave a directory that looks
 * created (it has PG_VERSION early) and never opens.
 */
async function createDatabaseFiles(dataDir: string): Promise<void> {
  const staging = `${dataDir}.initializing`;
  await rm(staging, { recursive: true, force: true });
  try {
    await initializeInChild(staging);
    await rm(dataDir, { recursive: true, force: true });
    await rename(staging, dataDir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** One PGlite instance in a worker thread of its own. */
export interface PgliteHandle {
  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  exec(sql: string): Promise<void>;
  /** Closes the database cleanly, then the thread. */
  close(): Promise<void>;
  /**
   * Stops the thread at once, whatever it is doing; committed data is
   * recovered by the next open. False when it did not stop within a few seconds.
   */
  kill(): Promise<boolean>;
  /** True once the thread is gone (killed, crashed or closed): send it nothing more. */
  readonly dead: boolean;
}

/**
 * PGlite on `dataDir` (in memory when undefined), its files created first
 * when the directory is new, running in a worker thread so that its work
 * leaves the server's event loop free, and so that a statement that never
 * returns (`statementTimeoutMs`) can be stopped by ending the thread.
 */
export async function openPglite(dataDir: string | undefined, statementTimeoutMs: number): Promise<PgliteHandle> {
  if (dataDir && !existsSync(join(dataDir, 'PG_VERSION'))) await createDatabaseFiles(dataDir);
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
    workerData: { dataDir, startParams: START_PARAMS },
  });
  const pending = new Map<
    number,
    { resolve(rows: unknown[]): void; reject(error: unknown): void; timer: NodeJS.Timeout }
  >();
  let nextId = 0;
  let dead = false;

  function failAll(error: Error): void {
    dead = true;
    for (const request of pending.values()) {
      clearTimeout(request.timer);
      request.reject(error);
    }
    pending.clear();
  }

  await new Promise<void>((resolve, reject) => {
    worker.once('message', (message: { ready: boolean; error?: ErrorDescription }) => {
      if (message.ready) resolve();
      else {
        void worker.terminate();
        reject(message.error ? toError(message.error) : new Error('PGlite failed to start'));
      }
    });
    worker.once('error', reject);
  });
  worker.on('message', (message: { id: number; rows?: unknown[]; error?: ErrorDescription }) => {
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    clearTimeout(request.timer);
    if (message.error) request.reject(toError(message.error));
    else request.resolve(message.rows ?? []);
  });
  worker.on('error', (error) => failAll(new StoreError('unavailable', { cause: error })));
  worker.on('exit', () => failAll(new StoreError('unavailable', { message: 'the database stopped' })));

  /** Resolves false when the thread did not stop in time (stuck in a system call, e.g. on a hung disk). */
  async function kill(): Promise<boolean> {
    failAll(new StoreError('unavailable', { message: 'the database stopped' }));
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      worker.terminate().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), TERMINATE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    return stopped;
  }

  function request(kind: 'query' | 'exec' | 'close', sql = '', params: readonly unknown[] = []): Promise<unknown[]> {
    if (dead) return Promise.reject(new StoreError('unavailable', { message: 'the database stopped' }));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // PGlite cannot cancel a statement: the thread goes, and with it the spinning statement.
        failAll(new StoreError('timeout'));
        void worker.terminate();
      }, statementTimeoutMs);
      pending.set(id, { resolve, reject, timer });
      try {
        worker.postMessage({ id, kind, sql, params: [...params] });
      } catch (error) {
        // A parameter that cannot be copied to the thread: this statement fails, the database is fine.
        clearTimeout(timer);
        pending.delete(id);
        reject(error);
      }
    });
  }

  return {
    query: <Row>(sql: string, params?: readonly unknown[]) => request('query', sql, params) as Promise<Row[]>,
    exec: async (sql) => {
      await request('exec', sql);
    },
    async close() {
      if (dead) return;
      await request('close').catch(() => {});
      await kill();
    },
    kill,
    get dead() {
      return dead;
    },
  };
}
