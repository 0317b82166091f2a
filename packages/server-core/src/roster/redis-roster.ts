import { randomUUID } from 'node:crypto';
import superjson from 'superjson';
import { redisClient } from '../redis/redis-client';
import type { Roster } from './roster';

export interface RedisRosterOptions {
  url: string;
  /** Put before every key, so several deployments can share one Redis. @default 'tether:' */
  keyPrefix?: string;
  /** This process's name in the roster; a fresh one per process when absent. */
  nodeId?: string;
  /** A process that stops renewing its liveness (a crash) is out of every scope after this long. @default 10_000 */
  ttlMs?: number;
  /** How often every scope in Redis is cleared of lapsed entries, those no reader comes to. @default 60_000 */
  sweepMs?: number;
  /** A Redis failure: reported, never thrown from the background (the client reconnects by itself). */
  onError(error: unknown): void;
}

/**
 * Clears the fields that no live incarnation vouches for, in one step on the
 * Redis side: a check and a delete sent apart could delete the field of a
 * process that wrote itself back in between. KEYS[1]: the scope's hash;
 * ARGV[1]: the liveness keys' prefix.
 */
const CLEAR_LAPSED = `
for _, node in ipairs(redis.call('HKEYS', KEYS[1])) do
  local live = redis.call('GET', ARGV[1] .. node)
  local value = redis.call('HGET', KEYS[1], node)
  if not live or string.sub(value, 1, #live + 1) ~= live .. ' ' then redis.call('HDEL', KEYS[1], node) end
end
return 0`;

/** A field's value: the incarnation that wrote it, a space, then the value itself. */
const written = (incarnation: string, text: string) => `${incarnation} ${text}`;
/** The value of a field its process's current incarnation wrote; undefined for any other. */
function vouchedFor(field: string, live: string | null): string | undefined {
  return live !== null && field.startsWith(`${live} `) ? field.slice(live.length + 1) : undefined;
}

/**
 * The roster across processes, in Redis. Each scope is a hash with one field
 * per process; each process also keeps a liveness key that expires `ttlMs`
 * after its last renewal (every third of that). The liveness key holds the
 * process's incarnation, and every field carries the incarnation that wrote
 * it. A reader keeps the fields of the other processes' current
 * incarnations and clears the rest, so a crashed process's entries are gone
 * within `ttlMs`, by Redis's clock (no clock skew between processes). After
 * any reconnection the process starts a new incarnation and writes everything
 * it holds again: whatever Redis kept or brought back from before (a
 * snapshot loaded at restart, a replica promoted behind) counts for nothing,
 * including entries this process had taken back. Entries no reader comes to
 * again are cleared every `sweepMs`.
 */
export async function createRedisRoster(options: RedisRosterOptions): Promise<Roster> {
  const prefix = options.keyPrefix ?? 'tether:';
  const nodeId = options.nodeId ?? randomUUID();
  const ttlMs = options.ttlMs ?? 10_000;
  const scopeKey = (scope: string) => `${prefix}roster:${scope}`;
  const liveKey = (node: string) => `${prefix}roster-node:${node}`;
  const sweepMs = options.sweepMs ?? 60_000;
  const client = redisClient(options.url, options.onError, `${prefix}roster-${nodeId}`);
  await client.connect();
  let incarnation = randomUUID();

  /** What this process holds, serialized: written again whenever Redis may have lost it. */
  const held = new Map<string, string>();
  /** Scopes taken back whose delete did not reach Redis: deleted again with the next rewrite, and on close. */
  const unsaid = new Set<string>();
  /** A new incarnation, and everything held written under it in one transaction: readers see all of it or the old. */
  const rewrite = async () => {
    const next = randomUUID();
    const unsaidNow = [...unsaid];
    const transaction = client.multi();
    for (const scope of unsaidNow) transaction.hDel(scopeKey(scope), nodeId);
    for (const [scope, value] of held) transaction.hSet(scopeKey(scope), nodeId, written(next, value));
    transaction.set(liveKey(nodeId), next, { PX: ttlMs });
    incarnation = next;
    await transaction.exec();
    for (const scope of unsaidNow) unsaid.delete(scope);
  };
  /** Renews liveness; if it had lapsed (a stall longer than the TTL), others may have cleared this process: write it all again. */
  const renew = async () => {
    const previous = await client.set(liveKey(nodeId), incarnation, { PX: ttlMs, GET: true });
    if (previous !== incarnation) await rewrite();
  };
  /** Clears lapsed entries from every scope, a batch of keys at a time. */
  const sweep = async () => {
    for await (const keys of client.scanIterator({ MATCH: scopeKey('*'), COUNT: 500 })) {
      for (const key of keys) await client.eval(CLEAR_LAPSED, { keys: [key], arguments: [liveKey('')] });
    }
  };
  await client.set(liveKey(nodeId), incarnation, { PX: ttlMs });
  let open = true;
  client.on('ready', () => {
    // After the first connect, every 'ready' is a reconnection: Redis may have restarted empty.
    if (open) rewrite().catch(options.onError);
  });
  const renewal = setInterval(() => renew().catch(options.onError), Math.max(1, Math.floor(ttlMs / 3)));
  renewal.unref();
  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweep()
      .catch(options.onError)
      .finally(() => {
        sweeping = false;
      });
  }, sweepMs);
  sweeper.unref();

  return {
    async put(scope, value) {
      if (value === null) {
        held.delete(scope);
        unsaid.add(scope);
        await client.hDel(scopeKey(scope), nodeId);
        unsaid.delete(scope);
        return;
      }
      const text = superjson.stringify(value);
      held.set(scope, text);
      unsaid.delete(scope);
      await client.hSet(scopeKey(scope), nodeId, written(incarnation, text));
    },
    async others(scope) {
      const fields = await client.hGetAll(scopeKey(scope));
      const nodes = Object.keys(fields).filter((node) => node !== nodeId);
      if (nodes.length === 0) return [];
      const live = await client.mGet(nodes.map(liveKey));
      const values = nodes.map((node, i) => vouchedFor(fields[node] as string, live[i] ?? null));
      // Entries no live incarnation vouches for (a process that stopped renewing, or one from before a
      // reconnection) are cleared by whoever reads them first.
      if (values.includes(undefined)) {
        client.eval(CLEAR_LAPSED, { keys: [scopeKey(scope)], arguments: [liveKey('')] }).catch(options.onError);
      }
      return values.filter((value) => value !== undefined).map((value) => superjson.parse(value));
    },
    async close() {
      open = false;
      clearInterval(renewal);
      clearInterval(sweeper);
      const scopes = [...held.keys(), ...unsaid];
      held.clear();
      unsaid.clear();
      await Promise.allSettled([
        ...scopes.map((scope) => client.hDel(scopeKey(scope), nodeId)),
        client.del(liveKey(nodeId)),
      ]);
      await client.close().catch(() => {});
    },
  };
}
