import { createHash } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import superjson, { type SuperJSONResult } from 'superjson';
import type { Queryable, Store } from './store';

export interface IdempotencyScope {
  principalId: string;
  /** Without a key the request is simply applied. */
  key: string | undefined;
  /** The operation and its input: a repeated key with a different request is refused. */
  request: unknown;
}

/** The scope of a principal's request; `request` names the operation and carries its input. */
export function onceFor(principal: { userId: string }, key: string | undefined, request: unknown): IdempotencyScope {
  return { principalId: principal.userId, key, request };
}

function hashRequest(request: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(superjson.serialize(request)))
    .digest('base64url');
}

/**
 * Runs `apply` at most once per (principal, key), inside the caller's
 * transaction, and returns the first result to every repeat. The insert takes
 * the key's index lock first, so a concurrent repeat waits for the first
 * transaction and then reads its result; if that transaction rolled back, the
 * repeat applies instead.
 */
export async function runIdempotent<T>(tx: Queryable, scope: IdempotencyScope, apply: () => Promise<T>): Promise<T> {
  if (scope.key === undefined) return apply();
  const requestHash = hashRequest(scope.request);
  const claimed = await tx.query(
    `INSERT INTO idempotency_keys (principal_id, key, request_hash) VALUES ($1, $2, $3)
     ON CONFLICT (principal_id, key) DO NOTHING RETURNING key`,
    [scope.principalId, scope.key, requestHash],
  );
  if (claimed.length === 0) {
    const [first] = await tx.query<{ request_hash: string; response: SuperJSONResult }>(
      'SELECT request_hash, response FROM idempotency_keys WHERE principal_id = $1 AND key = $2',
      [scope.principalId, scope.key],
    );
    if (!first) throw new Error('idempotency record vanished under a conflict');
    if (first.request_hash !== requestHash) {
      throw new TRPCError({
        code: 'CONFLICT',
        message: 'idempotencyKey was already used for a different request; use a new key for a new request',
      });
    }
    return superjson.deserialize<T>(first.response);
  }
  const result = await apply();
  await tx.query('UPDATE idempotency_keys SET response = $3 WHERE principal_id = $1 AND key = $2', [
    scope.principalId,
    scope.key,
    JSON.stringify(superjson.serialize(result)),
  ]);
  return result;
}

/** Forgets keys older than `maxAgeHours` (design.md promises at least 24 h). */
export async function sweepIdempotencyKeys(store: Store, maxAgeHours: number): Promise<number> {
  const rows = await store.query(
    `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1) RETURNING key`,
    [maxAgeHours],
  );
  return rows.length;
}
