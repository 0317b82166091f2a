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
import { isRetryableConflict, storeFailureOf } from './store-errors';

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
  /** A kind of write whose concurrent requests are applied together by `apply`. */
  define<Req, Res>(apply: ApplyBatch<Req, Res>): (request: Req, once: IdempotencyScope | null) => Promise<Res>;
  /** One request's own transactional work; batched with others, each in a savepoint. */
  run<T>(work: (tx: WriteTx) => Promise<T>, once?: IdempotencyScope | null): Promise<T>;
}

export interface GroupCommitOptions {
  /** Requests committed together at most. @default 256 */
  maxBatch?: number;
  /**
   * Batches in flight at once. One keeps a single-connection engine (PGlite)
   * correct; a second lets a networked database work on the next batch while
   * one commits. @default 1
   */
  concurrency?: number;
  /** Attempts for a batch that meets a deadlock or serialization failure. @default 3 */
  conflictAttempts?: number;
}

interface Pending {
  apply: ApplyBatch<unknown, unknown>;
  request: unknown;
  once: IdempotencyScope | null;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit: write requests that arrive while a transaction is committing
 * wait for the next one, and all of them commit together, so one fsync serves
 * many calls and each kind of write runs a few set-based statements per batch
 * instead of a few per call. Streams and idempotency keys are locked in a
 * fixed order, so concurrent batches do not deadlock each other; a generic
 * write that does meet a deadlock is retried.
 *
 * Each request may carry an idempotency scope: it is claimed in the same
 * transaction, a repeat is answered with the first result, and the result
 * recorded is what the request's write returned.
 */
export function createGroupCommit(store: Store, options: GroupCommitOptions = {}): GroupCommit {
  const maxBatch = options.maxBatch ?? 256;
  const conflictAttempts = options.conflictAttempts ?? 3;
  const concurrency = options.concurrency ?? 1;
  let queue: Pending[] = [];
  let lanes = 0;
  let scheduled = false;

  function submit(pending: Pending): void {
    queue.push(pending);
    if (scheduled || lanes >= concurrency) return;
    scheduled = true;
    // Requests that arrive in the same turn of the event loop (one socket frame's calls) join the first batch.
    setImmediate(() => {
      scheduled = false;
      while (lanes < concurrency && queue.length > 0) void lane();
    });
  }

  /** Commits batch after batch while requests wait; `concurrency` lanes run side by side. */
  async function lane(): Promise<void> {
    lanes += 1;
    while (queue.length > 0) await commitBatch(takeBatch());
    lanes -= 1;
  }

  /** The oldest requests, up to maxBatch; a repeat of a scope already taken waits for the next batch. */
  function takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const waiting: Pending[] = [];
    const scopes = new Set<string>();
    for (const pending of queue) {
      const id = pending.once ? scopeId(pending.once) : null;
      if (batch.length >= maxBatch || (id !== null && scopes.has(id))) {
        waiting.push(pending);
        continue;
      }
      if (id !== null) scopes.add(id);
      batch.push(pending);
    }
    queue = waiting;
    return batch;
  }

  async function commitBatch(batch: Pending[]): Promise<void> {
    let outcomes: Array<Outcome<unknown>>;
    let effects: Array<() => void>;
    try {
      ({ outcomes, effects } = await commitWithRetry(batch));
    } catch (error) {
      if (batch.length > 1 && storeFailureOf(error) === null) {
        for (const pending of batch) await commitBatch([pending]);
        return;
      }
      for (const pending of batch) pending.reject(error);
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

  return {
    define<Req, Res>(apply: ApplyBatch<Req, Res>) {
      return (request: Req, once: IdempotencyScope | null) =>
        new Promise<Res>((resolve, reject) => {
          submit({
            apply: apply as ApplyBatch<unknown, unknown>,
            request,
            once,
            resolve: resolve as (value: unknown) => void,
            reject,
          });
        });
    },
    run<T>(work: (tx: WriteTx) => Promise<T>, once: IdempotencyScope | null = null) {
      return this.define(applyEach as ApplyBatch<(tx: WriteTx) => Promise<T>, T>)(work, once);
    },
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

function runEffects(effects: ReadonlyArray<() => void>): void {
  for (const effect of effects) effect();
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
