import { createHash } from 'node:crypto';
import superjson, { type SuperJSONResult } from 'superjson';
import type { Queryable, Store } from './store';

/** Who asked for what, once: structurally the protocol's `IdempotencyScope`. */
export interface IdempotencyScope {
  principalId: string;
  /** The operation, e.g. a procedure path. */
  path: string;
  key: string;
  /** The operation's input: a repeated key with a different request is refused. */
  input: unknown;
}

export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  constructor() {
    super('idempotencyKey was already used for a different request; use a new key for a new request');
  }
}

/** What a claim found: the key is new (apply), was applied before (answer with its result), or was used otherwise. */
export type Claim = { status: 'fresh' } | { status: 'done'; result: unknown } | { status: 'conflict' };

/** The scope's identity in the table. */
export const scopeId = (scope: Pick<IdempotencyScope, 'principalId' | 'key'>) => `${scope.principalId}\n${scope.key}`;

function hashRequest(scope: IdempotencyScope): string {
  return createHash('sha256')
    .update(JSON.stringify(superjson.serialize([scope.path, scope.input])))
    .digest('base64url');
}

/**
 * Claims each scope's key inside the caller's transaction, in one statement.
 * A key another transaction holds makes this wait for it; once committed, its
 * recorded result is returned. Scopes must be distinct.
 */
export async function claimKeys(tx: Queryable, scopes: readonly IdempotencyScope[]): Promise<Claim[]> {
  if (scopes.length === 0) return [];
  const rows = scopes.map((scope) => ({
    principal_id: scope.principalId,
    key: scope.key,
    request_hash: hashRequest(scope),
  }));
  const claimed = await tx.query<{ principal_id: string; key: string }>(
    `INSERT INTO idempotency_keys (principal_id, key, request_hash)
     SELECT principal_id, key, request_hash
     FROM jsonb_to_recordset($1::jsonb) AS t(principal_id text, key text, request_hash text)
     ORDER BY principal_id, key
     ON CONFLICT (principal_id, key) DO NOTHING RETURNING principal_id, key`,
    [JSON.stringify(rows)],
  );
  const idOf = (row: { principal_id: string; key: string }) => scopeId({ principalId: row.principal_id, key: row.key });
  const fresh = new Set(claimed.map(idOf));
  const taken = rows.filter((row) => !fresh.has(idOf(row)));
  const earlier = new Map<string, { request_hash: string; response: SuperJSONResult | null }>();
  if (taken.length > 0) {
    const found = await tx.query<{
      principal_id: string;
      key: string;
      request_hash: string;
      response: SuperJSONResult;
    }>(
      `SELECT k.principal_id, k.key, k.request_hash, k.response
       FROM idempotency_keys k JOIN jsonb_to_recordset($1::jsonb) AS t(principal_id text, key text)
         ON k.principal_id = t.principal_id AND k.key = t.key`,
      [JSON.stringify(taken.map(({ principal_id, key }) => ({ principal_id, key })))],
    );
    for (const row of found) earlier.set(idOf(row), row);
  }
  return rows.map((row): Claim => {
    if (fresh.has(idOf(row))) return { status: 'fresh' };
    const first = earlier.get(idOf(row));
    if (!first || first.response === null) throw new Error('idempotency record without a result under a conflict');
    if (first.request_hash !== row.request_hash) return { status: 'conflict' };
    return { status: 'done', result: superjson.deserialize(first.response) };
  });
}

/** Records the results of freshly claimed scopes, in the transaction that applied them. */
export async function recordResults(
  tx: Queryable,
  entries: ReadonlyArray<{ scope: IdempotencyScope; result: unknown }>,
): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    `UPDATE idempotency_keys k SET response = t.response
     FROM jsonb_to_recordset($1::jsonb) AS t(principal_id text, key text, response jsonb)
     WHERE k.principal_id = t.principal_id AND k.key = t.key`,
    [
      JSON.stringify(
        entries.map(({ scope, result }) => ({
          principal_id: scope.principalId,
          key: scope.key,
          response: superjson.serialize(result),
        })),
      ),
    ],
  );
}

/** Gives back claims whose request failed, so the same key may be tried again. */
export async function releaseKeys(tx: Queryable, scopes: readonly IdempotencyScope[]): Promise<void> {
  if (scopes.length === 0) return;
  await tx.query(
    `DELETE FROM idempotency_keys k USING jsonb_to_recordset($1::jsonb) AS t(principal_id text, key text)
     WHERE k.principal_id = t.principal_id AND k.key = t.key`,
    [JSON.stringify(scopes.map((scope) => ({ principal_id: scope.principalId, key: scope.key })))],
  );
}

/** Keys deleted per statement: each stays short, well inside any statement timeout. */
const SWEEP_CHUNK = 5_000;
/** Chunks per sweep at most; a backlog is worked off over the following sweeps. */
const SWEEP_CHUNKS_MAX = 200;

/**
 * Forgets keys older than `maxAgeHours` (docs/ARCHITECTURE.md promises at least 24 h), a
 * chunk at a time; skipped, like any write, under the disk's floor.
 */
export async function sweepIdempotencyKeys(store: Store, maxAgeHours: number): Promise<number> {
  let swept = 0;
  for (let chunk = 0; chunk < SWEEP_CHUNKS_MAX; chunk += 1) {
    await store.assertWritable();
    const [row] = await store.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM idempotency_keys WHERE ctid IN (
           SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1) LIMIT $2)
         RETURNING 1)
       SELECT count(*)::integer AS n FROM gone`,
      [maxAgeHours, SWEEP_CHUNK],
    );
    swept += row?.n ?? 0;
    if ((row?.n ?? 0) < SWEEP_CHUNK) break;
  }
  return swept;
}
