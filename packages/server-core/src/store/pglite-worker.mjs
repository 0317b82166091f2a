// PGlite in a worker thread (plain JavaScript: run as is from src/ by the
// tests and copied beside the bundle by build.mjs). The server's main thread
// sends one statement at a time and may terminate this thread when a statement
// never returns: PGlite spins forever after some PANICs (a WAL segment that
// cannot be created on a full disk), and only a thread of its own can be stopped.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** What crosses the thread boundary of an error: enough to classify it, nothing more. */
function describe(error) {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: String(error) };
  return {
    name: error.name ?? 'Error',
    message: error.message ?? String(error),
    code: typeof error.code === 'string' ? error.code : undefined,
    severity: typeof error.severity === 'string' ? error.severity : undefined,
    errno: typeof error.errno === 'number' ? error.errno : undefined,
  };
}

let db;
try {
  db = await PGlite.create({ dataDir: workerData.dataDir, startParams: workerData.startParams });
  parentPort.postMessage({ ready: true });
} catch (error) {
  parentPort.postMessage({ ready: false, error: describe(error) });
}

parentPort.on('message', async ({ id, kind, sql, params }) => {
  try {
    if (kind === 'query') {
      const result = await db.query(sql, params);
      parentPort.postMessage({ id, rows: result.rows });
    } else if (kind === 'exec') {
      await db.exec(sql);
      parentPort.postMessage({ id, rows: [] });
    } else if (kind === 'close') {
      await db.close();
      parentPort.postMessage({ id, rows: [] });
    }
  } catch (error) {
    parentPort.postMessage({ id, error: describe(error) });
  }
});
