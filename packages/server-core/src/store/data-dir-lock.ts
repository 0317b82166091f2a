import { createHash } from 'node:crypto';
import { realpath, unlink } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';

export interface DataDirLock {
  release(): Promise<void>;
}

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
}

interface Holder {
  pid: number;
  startedAt: string;
}

/**
 * A listening Unix socket is the lock: the kernel frees it when the process
 * dies, however it dies, so a lock left by `kill -9` never blocks a restart.
 * On Linux the socket is abstract (no file, named after the directory's real
 * path); elsewhere it is a file in the directory, taken over when nothing
 * answers on it.
 */
async function socketPathFor(dir: string): Promise<string> {
  const real = await realpath(dir);
  if (process.platform === 'linux') {
    return `\0tether-data-dir:${createHash('sha256').update(real).digest('hex').slice(0, 40)}`;
  }
  return join(real, '.tether-lock.sock');
}

function listen(path: string, holder: Holder): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      // Whoever knocks learns who holds the directory.
      socket.on('error', () => {});
      socket.end(JSON.stringify(holder));
    });
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server.unref());
    });
  });
}

/** The holder's identity, or null when nothing answers (a file socket left by a dead process). */
function askHolder(path: string): Promise<Holder | null> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(path);
    socket.setTimeout(2_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('error', () => resolve(null));
    socket.on('close', () => {
      try {
        resolve(JSON.parse(text) as Holder);
      } catch {
        resolve({ pid: 0, startedAt: 'unknown' });
      }
    });
  });
}

/**
 * Takes the data directory for this process alone (PGlite is one process's
 * database: two writers would hand out the same seqs and lose each other's
 * commits). Throws DataDirLockedError naming the holder when another process has it.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = await socketPathFor(dir);
  const holder: Holder = { pid: process.pid, startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt += 1) {
    try {
      const server = await listen(path, holder);
      return {
        release: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
          }),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const other = await askHolder(path);
      if (other) {
        const who = other.pid > 0 ? `process ${other.pid} (since ${other.startedAt})` : 'another process';
        throw new DataDirLockedError(
          `data directory ${dir} is in use by ${who}; one server process per data directory`,
        );
      }
      // A file socket nobody answers on was left by a process that died: take it over, once.
      if (attempt > 0 || path.startsWith('\0')) throw error;
      await unlink(path).catch(() => {});
    }
  }
}
