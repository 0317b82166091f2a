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
  /** A Redis failure: reported, never thrown from the background (the client reconnects by itself). */
  onError(error: unknown): void;
}

/**
 * Clears the fields of processes whose liveness key is gone, in one step on
 * the Redis side: a check and a delete sent apart could delete the field of a
 * process that wrote itself back in between. KEYS[1]: the scope's hash;
 * ARGV[1]: the liveness keys' prefix.
 */
const CLEAR_LAPSED = `
for _, node in ipairs(redis.call('HKEYS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. node) == 0 then redis.call('HDEL', KEYS[1], node) end
end
return 0`;

/**
 * The roster across processes, in Redis. Each scope is a hash with one field
 * per process; each process also keeps a liveness key that expires `ttlMs`
 * after its last renewal (every third of that). A reader keeps the fields of
 * the other live processes and clears those of lapsed ones, so a crashed process's
 * entries are gone within `ttlMs`, by Redis's clock (no clock skew between
 * processes). After Redis comes back empty (a restart), the process writes
 * everything it holds again.
 */
export async function createRedisRoster(options: RedisRosterOptions): Promise<Roster> {
  const prefix = options.keyPrefix ?? 'tether:';
  const nodeId = options.nodeId ?? randomUUID();
  const ttlMs = options.ttlMs ?? 10_000;
  const scopeKey = (scope: string) => `${prefix}roster:${scope}`;
  const liveKey = (node: string) => `${prefix}roster-node:${node}`;
  const client = redisClient(options.url, options.onError);
  await client.connect();

  /** What this process holds, serialized: written again whenever Redis may have lost it. */
  const held = new Map<string, string>();
  /** Scopes taken back whose delete did not reach Redis: deleted again with the next rewrite, and on close. */
  const unsaid = new Set<string>();
  const rewrite = async () => {
    await client.set(liveKey(nodeId), '1', { PX: ttlMs });
    for (const scope of [...unsaid]) {
      await client.hDel(scopeKey(scope), nodeId);
      unsaid.delete(scope);
    }
    for (const [scope, value] of held) await client.hSet(scopeKey(scope), nodeId, value);
  };
  /** Renews liveness; if it had lapsed (a stall longer than the TTL), others may have cleared this process: write it all again. */
  const renew = async () => {
    const previous = await client.set(liveKey(nodeId), '1', { PX: ttlMs, GET: true });
    if (previous === null) await rewrite();
  };
  await client.set(liveKey(nodeId), '1', { PX: ttlMs });
  let open = true;
  client.on('ready', () => {
    // After the first connect, every 'ready' is a reconnection: Redis may have restarted empty.
    if (open) rewrite().catch(options.onError);
  });
  const renewal = setInterval(() => renew().catch(options.onError), Math.max(1, Math.floor(ttlMs / 3)));
  renewal.unref();

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
      await client.hSet(scopeKey(scope), nodeId, text);
    },
    async others(scope) {
      const fields = await client.hGetAll(scopeKey(scope));
      const nodes = Object.keys(fields).filter((node) => node !== nodeId);
      if (nodes.length === 0) return [];
      const alive = await client.mGet(nodes.map(liveKey));
      // The entries of a process that stopped renewing are cleared by whoever reads them first.
      if (alive.some((live) => live === null)) {
        client.eval(CLEAR_LAPSED, { keys: [scopeKey(scope)], arguments: [liveKey('')] }).catch(options.onError);
      }
      return nodes.filter((_, i) => alive[i] !== null).map((node) => superjson.parse(fields[node] as string));
    },
    async close() {
      open = false;
      clearInterval(renewal);
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
