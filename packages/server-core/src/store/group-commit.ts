import {
  type Claim,
  claimKeys,
  IdempotencyConflictError,
  type IdempotencyScope,
  recordResults,
  releaseKeys,
  scopeId,
} from './idempotency';
import type { Queryable, Store } from './store';
import { isRetryableConflict, StoreError, storeFailureOf } from './store-errors';

/** A write transaction shared by a batch of requests. */
export interface WriteTx extends Queryable {
  /** Runs `effect` after the transaction commits and its callers have been answered (fan-out goes here). */
  afterCommit(effect: () => void): void;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Applies a batch of requests inside one transaction and returns one outcome
 * per request, in order. An outcome's error is that request's alone (its
 * writes must not have been made). Throwing fails the whole batch, which is
 * then retried one request at a time so that the request at fault fails alone.
 */
export type ApplyBatch<Req, Res> = (tx: WriteTx, requests: readonly Req[]) => Promise<Array<Outcome<Res>>>;

export interface GroupCommit {
  /**
   * A kind of write whose concurrent requests are applied together by `apply`.
   * `concurrent`: its batches lock what they touch in a fixed order (set-based
   * statements, rows sorted), so they may run beside each other; other writes
   * run alone.
   */
  define<Req, Res>(
    apply: ApplyBatch<Req, Res>,
    options?: { concurrent?: boolean },
  ): (request: Req, once: IdempotencyScope | null) => Promise<Res>;
  /** One request's own transactional work; batched with others, each in a savepoint, never beside another batch. */
  run<T>(work: (tx: WriteTx) => Promise<T>, once?: IdempotencyScope | null): Promise<T>;
}

export interface GroupCommitOptions {
  /** Requests committed together at most. @default 256 */
  maxBatch?: number;
  /**
   * Batches in flight at once. One keeps a single-connection engine (PGlite)
   * correct; a second lets a networked database work on the next batch of
   * concurrent-safe writes while one commits. @default 2 on PostgreSQL, 1 on PGlite
   */
  concurrency?: number;
  /** Attempts for a batch that meets a deadlock or serialization failure. @default 3 */
  conflictAttempts?: number;
  /** Requests waiting at most; more are refused as busy rather than queued without bound. @default 10_000 */
  maxQueued?: number;
}

interface Pending {
  apply: ApplyBatch<unknown, unknown>;
  concurrent: boolean;
  request: unknown;
  once: IdempotencyScope | null;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit: write requests that arrive while a transaction is committing
 * wait for the next one, and all of them commit together, so one fsync serves
 * many calls and each kind of write runs a few set-based statements per batch
 * instead of a few per call. Only batches of concurrent-safe writes run beside
 * each other (their locks are taken in a fixed order, so they cannot deadlock);
 * a batch with any other write runs alone.
 *
 * Each request may carry an idempotency scope: it is claimed in the same
 * transaction, a repeat is answered with the first result, and the result
 * recorded is what the request's write returned. A repeat waits until the
 * batch holding its scope has finished, so the first request always wins.
 */
export function createGroupCommit(store: Store, options: GroupCommitOptions = {}): GroupCommit {
  const maxBatch = options.maxBatch ?? 256;
  const conflictAttempts = options.conflictAttempts ?? 3;
  const concurrency = options.concurrency ?? (store.engine === 'postgres' ? 2 : 1);
  const maxQueued = options.maxQueued ?? 10_000;
  let queue: Pending[] = [];
  let lanes = 0;
  let scheduled = false;
  /** Batches in flight, and whether one of them runs alone. */
  let running = 0;
  let runningAlone = false;
  /** Scopes of the requests in flight: their repeats wait. */
  const scopesInFlight = new Set<string>();

  function submit(pending: Pending): void {
    if (queue.length >= maxQueued) {
      pending.reject(new StoreError('unavailable', { message: 'the server is busy writing; try again shortly' }));
      return;
    }
    queue.push(pending);
    if (scheduled) return;
    scheduled = true;
    // Requests that arrive in the same turn of the event loop (one socket frame's calls) join the first batch.
    setImmediate(() => {
      scheduled = false;
      startLanes();
    });
  }

  function startLanes(): void {
    for (let free = concurrency - lanes; free > 0 && queue.length > 0; free -= 1) void lane();
  }

  /** Commits batch after batch while there is one it may take; up to `concurrency` lanes run side by side. */
  async function lane(): Promise<void> {
    lanes += 1;
    for (let batch = takeBatch(); batch; batch = takeBatch()) {
      const alone = batch.some((pending) => !pending.concurrent);
      const scopes = batch.flatMap((pending) => (pending.once ? [scopeId(pending.once)] : []));
      running += 1;
      runningAlone = alone;
      for (const id of scopes) scopesInFlight.add(id);
      await commitBatch(batch);
      for (const id of scopes) scopesInFlight.delete(id);
      running -= 1;
      if (alone) runningAlone = false;
      // What this batch held back (repeats of its scopes, a write that must run alone) may go now.
      startLanes();
    }
    lanes -= 1;
  }

  /**
   * The oldest requests that may start now, up to maxBatch, or null. Repeats
   * of a scope in flight or already taken stay queued. While another batch
   * runs, only concurrent-safe requests are taken, up to the first one that
   * must run alone (it goes next, when the others are done).
   */
  function takeBatch(): Pending[] | null {
    if (runningAlone) return null;
    const batch: Pending[] = [];
    const heldBack: Pending[] = [];
    const scopes = new Set<string>();
    let i = 0;
    for (; i < queue.length && batch.length < maxBatch; i += 1) {
      const pending = queue[i] as Pending;
      const id = pending.once ? scopeId(pending.once) : null;
      if (id !== null && (scopes.has(id) || scopesInFlight.has(id))) {
        heldBack.push(pending);
        continue;
      }
      if (running > 0 && !pending.concurrent) break;
      if (id !== null) scopes.add(id);
      batch.push(pending);
    }
    queue = heldBack.concat(queue.slice(i));
    return batch.length > 0 ? batch : null;
  }

  async function commitBatch(batch: Pending[]): Promise<void> {
    let outcomes: Array<Outcome<unknown>>;
    let effects: Array<() => void>;
    try {
      ({ outcomes, effects } = await commitWithRetry(batch));
    } catch (error) {
      if (batch.length > 1 && storeFailureOf(error) === null && !isRetryableConflict(error)) {
        for (const pending of batch) await commitBatch([pending]);
        return;
      }
      // Conflicts that outlasted their retries are a busy database: retryable, like any outage.
      const failure = isRetryableConflict(error) ? new StoreError('unavailable', { cause: error }) : error;
      for (const pending of batch) pending.reject(failure);
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i] as Outcome<unknown>;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
    // Callers' answers are written in the microtasks that follow; fan-out waits for the next turn.
    if (effects.length > 0) setImmediate(() => runEffects(effects));
  }

  async function commitWithRetry(batch: Pending[]) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await store.assertWritable();
        return await commitOnce(batch);
      } catch (error) {
        if (attempt >= conflictAttempts || !isRetryableConflict(error)) throw error;
      }
    }
  }

  async function commitOnce(batch: Pending[]) {
    const effects: Array<() => void> = [];
    const outcomes = await store.transaction(async (sql) => {
      const tx: WriteTx = { query: sql.query, exec: sql.exec, afterCommit: (effect) => effects.push(effect) };
      const claims = await claimAll(tx, batch);
      const results: Array<Outcome<unknown> | undefined> = claims.map((claim) => answerFromClaim(claim));
      for (const [apply, indexes] of groupByApply(batch, results)) {
        const applied = await apply(
          tx,
          indexes.map((i) => (batch[i] as Pending).request),
        );
        indexes.forEach((batchIndex, i) => {
          results[batchIndex] = applied[i];
        });
      }
      const done = results as Array<Outcome<unknown>>;
      const fresh = batch.flatMap((pending, i) => (pending.once && claims[i]?.status === 'fresh' ? [i] : []));
      await recordResults(
        tx,
        fresh.flatMap((i) => {
          const outcome = done[i] as Outcome<unknown>;
          return outcome.ok ? [{ scope: (batch[i] as Pending).once as IdempotencyScope, result: outcome.value }] : [];
        }),
      );
      await releaseKeys(
        tx,
        fresh.filter((i) => !done[i]?.ok).map((i) => (batch[i] as Pending).once as IdempotencyScope),
      );
      return done;
    });
    return { outcomes, effects };
  }

  function define<Req, Res>(apply: ApplyBatch<Req, Res>, kind: { concurrent?: boolean } = {}) {
    return (request: Req, once: IdempotencyScope | null) =>
      new Promise<Res>((resolve, reject) => {
        submit({
          apply: apply as ApplyBatch<unknown, unknown>,
          concurrent: kind.concurrent ?? false,
          request,
          once,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
      });
  }

  const runEach = define(applyEach);
  return {
    define,
    run: <T>(work: (tx: WriteTx) => Promise<T>, once: IdempotencyScope | null = null) =>
      runEach(work, once) as Promise<T>,
  };
}

/** Claims for every request in order; requests without a scope are simply fresh. */
async function claimAll(tx: WriteTx, batch: readonly Pending[]): Promise<Claim[]> {
  const scoped = batch.flatMap((pending) => (pending.once ? [pending.once] : []));
  const claims = await claimKeys(tx, scoped);
  let next = 0;
  return batch.map((pending) => (pending.once ? (claims[next++] as Claim) : { status: 'fresh' }));
}

/** A repeat is answered without applying; a fresh request is left to its apply. */
function answerFromClaim(claim: Claim): Outcome<unknown> | undefined {
  if (claim.status === 'done') return { ok: true, value: claim.result };
  if (claim.status === 'conflict') return { ok: false, error: new IdempotencyConflictError() };
  return undefined;
}

/** The batch indexes still to apply, grouped by their apply function, in arrival order. */
function groupByApply(batch: readonly Pending[], results: ReadonlyArray<Outcome<unknown> | undefined>) {
  const groups = new Map<ApplyBatch<unknown, unknown>, number[]>();
  batch.forEach((pending, i) => {
    if (results[i]) return;
    const group = groups.get(pending.apply) ?? [];
    group.push(i);
    groups.set(pending.apply, group);
  });
  return groups;
}

/** Effects are fire-and-forget (a publish): one that throws must neither crash the process nor stop the rest. */
function runEffects(effects: ReadonlyArray<() => void>): void {
  for (const effect of effects) {
    try {
      effect();
    } catch {
      // Subscribers read anything they missed from the store.
    }
  }
}

/**
 * The generic kind of write: each request's own work, in a savepoint of its
 * own since it shares the transaction, so its failure undoes only its writes
 * (and drops its after-commit effects). A failure of the database itself fails the batch.
 */
async function applyEach(
  tx: WriteTx,
  works: ReadonlyArray<(tx: WriteTx) => Promise<unknown>>,
): Promise<Array<Outcome<unknown>>> {
  const outcomes: Array<Outcome<unknown>> = [];
  for (const work of works) {
    const effects: Array<() => void> = [];
    await tx.exec('SAVEPOINT tether_write');
    try {
      const value = await work({ query: tx.query, exec: tx.exec, afterCommit: (effect) => effects.push(effect) });
      await tx.exec('RELEASE SAVEPOINT tether_write');
      for (const effect of effects) tx.afterCommit(effect);
      outcomes.push({ ok: true, value });
    } catch (error) {
      if (storeFailureOf(error) !== null) throw error;
      await tx.exec('ROLLBACK TO SAVEPOINT tether_write');
      outcomes.push({ ok: false, error });
    }
  }
  return outcomes;
}
