// One password hash at a time, on a thread of its own at the lowest priority:
// scrypt keeps a core busy for tens of milliseconds, and whatever else the
// machine runs (the event loop above all) should come first. Plain JavaScript,
// loaded by URL beside the bundle (build.mjs copies it).
import { scryptSync } from 'node:crypto';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';

// On Linux the nice value is a thread's own, and 0 names the calling thread: the event loop keeps its priority.
// Elsewhere (macOS, Windows) it would lower the whole process, event loop included: there hashing keeps the
// default priority, and the queue's bound alone protects the rest.
if (process.platform === 'linux') {
  try {
    setPriority(0, 19);
  } catch {
    // Not allowed here: the queue's bound still holds.
  }
}

parentPort.on('message', ({ id, password, salt, keyLength, params }) => {
  try {
    const key = scryptSync(password, salt, keyLength, params);
    parentPort.postMessage({ id, key });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
