import { randomBytes, type ScryptOptions, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RetryLaterError } from '@tether/protocol';
import { TRPCError } from '@trpc/server';
import PQueue from 'p-queue';

/** scrypt cost: 2^15 x 8 x 1 uses 32 MiB per hash, memory-hard as OWASP recommends. */
const PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_LENGTH = 32;

type Derive = (password: string, salt: Buffer, params: ScryptOptions) => Promise<Buffer>;

/** `scrypt$N$r$p$salt$hash`, so the cost can rise later without breaking stored hashes. */
async function hashPassword(derive: Derive, password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

async function verifyPassword(derive: Derive, password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: PARAMS.maxmem,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A thread of its own (password-worker.mjs, at the lowest priority) that
 * derives one key at a time; started on first use, and again if it dies.
 * Unreferenced: it never keeps the process alive.
 */
function hashingThread(): { derive: Derive; close(): Promise<void> } {
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
        const message = { id, password: password.normalize('NFKC'), salt: new Uint8Array(salt), keyLength: KEY_LENGTH };
        worker.postMessage({ ...message, params });
      });
    },
    async close() {
      closed = true;
      await current?.worker.terminate();
    },
  };
}

export interface PasswordHashingSettings {
  /** Hashes computed at once: each takes a core for tens of milliseconds. */
  atOnce: number;
  /** Hashes waiting their turn; past this a sign-in or sign-up is refused with TOO_MANY_REQUESTS. */
  waiting: number;
}

/** Hashes at once, at most: each holds 32 MiB while it runs, and a container's cores may be fewer than the host's. */
const MAX_AT_ONCE = 4;

/** Half the cores (at least one, at most four): the other half stays with the event loop, and everyone else's calls. */
export const DEFAULT_PASSWORD_HASHING: PasswordHashingSettings = {
  atOnce: Math.max(1, Math.min(MAX_AT_ONCE, Math.floor(availableParallelism() / 2))),
  waiting: 32,
};

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Why a hash asked for now would be refused (the queue is full), or null. Counts nothing. */
  busy(): RetryLaterError | null;
  /** Throws the refusal a hash asked for now would get (TOO_MANY_REQUESTS), counted as one; asked before any other work. */
  refuseIfBusy(): void;
  /** Stops the hashing threads; the work they had fails. */
  close(): Promise<void>;
  /**
   * Checks `password` against who is signing in (against a decoy when there
   * is nobody: the same work either way), and gives them back when the
   * password is right.
   */
  check<T>(password: string, stored: { hash: string; found: T } | undefined): Promise<T | undefined>;
}

/**
 * Password hashing that cannot starve the server: scrypt keeps a core busy
 * for each hash, so a flood of sign-ins would take every core (and, on
 * libuv's threadpool, the threads that token checks and file reads need).
 * Hashes run `atOnce` at a time, each on a thread of its own at the lowest
 * priority; a few more wait; past that the caller is told to retry in a
 * second, at the cost of no work.
 */
export function createPasswordHasher(
  settings: PasswordHashingSettings,
  onRefused: () => void = () => {},
): PasswordHasher {
  const queue = new PQueue({ concurrency: Math.max(1, Math.min(settings.atOnce, availableParallelism())) });
  let closed = false;
  // One thread per hash at once; a task takes whichever is free (there always is one: the queue sees to it).
  const threads = Array.from({ length: queue.concurrency }, hashingThread);
  const free = [...threads];
  const onAThread: Derive = async (password, salt, params) => {
    const thread = free.pop();
    if (!thread) throw new Error('no hashing thread free: the queue runs no more than there are threads');
    const startedAt = performance.now();
    try {
      return await thread.derive(password, salt, params);
    } finally {
      free.push(thread);
      hashMs = 0.8 * hashMs + 0.2 * (performance.now() - startedAt);
    }
  };
  /** How long a hash takes here, on average (a moving one), for a fair time to come back. */
  let hashMs = 100;
  const busy = (): RetryLaterError | null => {
    if (queue.pending < queue.concurrency || queue.size < settings.waiting) return null;
    const seconds = Math.max(1, Math.ceil(((queue.size + queue.pending) * hashMs) / queue.concurrency / 1000));
    return new RetryLaterError(seconds * 1000, `the server is busy checking passwords: try again in ${seconds} s`);
  };
  const refuseIfBusy = () => {
    const later = busy();
    if (!later) return;
    onRefused();
    throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: later.message, cause: later });
  };
  const inTurn = async <T>(work: () => Promise<T>): Promise<T> => {
    refuseIfBusy();
    // Work still waiting at close fails, rather than waiting forever.
    return queue.add(() => (closed ? Promise.reject(new Error('the password hasher is closed')) : work()));
  };
  // A hash to verify against when the user does not exist, so timing does not reveal usernames; made on first need.
  let decoy: Promise<string> | undefined;
  return {
    hash: (password) => inTurn(() => hashPassword(onAThread, password)),
    check(password, stored) {
      return inTurn(async () => {
        if (!stored) {
          decoy ??= hashPassword(onAThread, 'decoy password, never matches').catch((error: unknown) => {
            decoy = undefined;
            throw error;
          });
          await verifyPassword(onAThread, password, await decoy);
          return undefined;
        }
        return (await verifyPassword(onAThread, password, stored.hash)) ? stored.found : undefined;
      });
    },
    busy,
    refuseIfBusy,
    async close() {
      closed = true;
      await Promise.all(threads.map((thread) => thread.close()));
    },
  };
}
