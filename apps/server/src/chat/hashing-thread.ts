import type { ScryptOptions } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** The derived key's length, in bytes. */
const KEY_BYTES = 32;

/** Derives scrypt keys off the event loop. */
export interface HashingThread {
  derive(password: string, salt: Buffer, params: ScryptOptions): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * A thread of its own (password-worker.mjs, at the lowest priority) that
 * derives one key at a time; started on first use, and again if it dies.
 * Unreferenced: it never keeps the process alive.
 */
export function hashingThread(): HashingThread {
  type Pending = { resolve(key: Buffer): void; reject(error: Error): void };
  let current: { worker: Worker; waiting: Map<number, Pending> } | null = null;
  let nextId = 0;
  let closed = false;
  const start = () => {
    const worker = new Worker(new URL('./password-worker.mjs', import.meta.url));
    worker.unref();
    const waiting = new Map<number, Pending>();
    const started = { worker, waiting };
    // Each worker fails only its own work: a dead one's late 'exit' must not touch its successor's.
    const failAll = (error: Error) => {
      for (const pending of waiting.values()) pending.reject(error);
      waiting.clear();
      if (current === started) current = null;
    };
    worker.on('message', ({ id, key, error }: { id: number; key?: Uint8Array; error?: string }) => {
      const pending = waiting.get(id);
      waiting.delete(id);
      if (key) pending?.resolve(Buffer.from(key));
      else pending?.reject(new Error(error ?? 'the key was not derived'));
    });
    worker.on('error', failAll);
    worker.on('exit', () => failAll(new Error('the password hashing thread stopped')));
    return started;
  };
  return {
    derive(password, salt, params) {
      if (closed) return Promise.reject(new Error('the password hasher is closed'));
      current ??= start();
      const { worker, waiting } = current;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        // The salt copied to bytes of its own: a small Buffer is a view on a shared pool.
        const message = { id, password: password.normalize('NFKC'), salt: new Uint8Array(salt), keyLength: KEY_BYTES };
        worker.postMessage({ ...message, params });
      });
    },
    async close() {
      closed = true;
      await current?.worker.terminate();
    },
  };
}
