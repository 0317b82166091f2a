import { randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type RetryLaterError, retryLater, tooManyRequests } from '@tether/protocol';
import PQueue from 'p-queue';
import { type HashingThread, hashingThread } from './hashing-thread';

/** scrypt cost: 2^15 x 8 x 1 uses 32 MiB per hash, memory-hard as OWASP recommends. */
const PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

type Derive = HashingThread['derive'];

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
  /**
   * Checks `password` against who is signing in (against a decoy when there
   * is nobody: the same work either way), and gives them back when the
   * password is right.
   */
  check<T>(password: string, stored: { hash: string; found: T } | undefined): Promise<T | undefined>;
  /** Stops the hashing threads; the work they had fails. */
  close(): Promise<void>;
}

/**
 * Password hashing that cannot starve the server: scrypt keeps a core busy
 * for each hash, so a flood of sign-ins would take every core (and, on
 * libuv's threadpool, the threads that token checks and file reads need).
 * Hashes run `atOnce` at a time, each on a thread of its own at the lowest
 * priority; a few more wait; past that the caller is told when to retry (from
 * the queue's length and how long a hash takes here), at the cost of no work.
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
    return retryLater(
      'the server is busy checking passwords',
      ((queue.size + queue.pending) * hashMs) / queue.concurrency,
    );
  };
  const refuseIfBusy = () => {
    const later = busy();
    if (!later) return;
    onRefused();
    throw tooManyRequests(later);
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
