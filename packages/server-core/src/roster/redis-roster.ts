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
 * Reads a scope and clears the fields no live incarnation vouches for, in one
 * step on the Redis side: read apart, a process's rewrite landing between the
 * hash and its liveness would hide all its entries, and a check and a delete
 * sent apart could delete a field written back in between. KEYS[1]: the
 * scope's hash; ARGV[1]: the liveness keys' prefix; ARGV[2]: the reader's own
 * node (left out of what is returned); ARGV[3]: 'read' to return the values.
 */
const READ_LIVE = `
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return {} end
local fields = redis.call('HGETALL', KEYS[1])
local values = {}
for i = 1, #fields, 2 do
  local node, value = fields[i], fields[i + 1]
  local live = redis.call('GET', ARGV[1] .. node)
  if live and string.sub(value, 1, #live + 1) == live .. ' ' then
    if ARGV[3] == 'read' and node ~= ARGV[2] then values[#values + 1] = string.sub(value, #live + 2) end
  else
    redis.call('HDEL', KEYS[1], node)
  end
end
return values`;

/** A field's value: the incarnation that wrote it, a space, then the value itself. */
const written = (incarnation: string, text: string) => `${incarnation} ${text}`;
/** `text` matched literally by SCAN's MATCH. */
const globEscape = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

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
 * again are cleared every `sweepMs`, by one process at a time.
 */
export async function createRedisRoster(options: RedisRosterOptions): Promise<Roster> {
  const prefix = options.keyPrefix ?? 'tether:';
  const nodeId = options.nodeId ?? randomUUID();
  const ttlMs = options.ttlMs ?? 10_000;
  const scopeKey = (scope: string) => `${prefix}roster:${scope}`;
  const liveKey = (node: string) => `${prefix}roster-node:${node}`;
  const sweepMs = options.sweepMs ?? 60_000;
  const client = redisClient(options.url, options.onError, `${prefix}roster-${nodeId}`.replace(/\s/g, '_'));
  const readLive = (scope: string, read: boolean) =>
    client.eval(READ_LIVE, { keys: [scope], arguments: [liveKey(''), nodeId, read ? 'read' : ''] }) as Promise<
      string[]
    >;
  await client.connect();
  let incarnation = randomUUID();

  /** What this process holds, serialized: written again whenever Redis may have lost it. */
  const held = new Map<string, string>();
  /** Scopes taken back whose delete did not reach Redis: deleted again with the next rewrite, and on close. */
  const unsaid = new Set<string>();
  /**
   * A new incarnation, and everything held written under it in one
   * transaction: readers see all of it or the old. The new incarnation is
   * taken before the transaction lands, so that a failed one makes the next
   * renewal find its liveness changed and write everything again.
   */
  const rewrite = async () => {
    if (!open) return;
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
    const sent = incarnation;
    const previous = await client.set(liveKey(nodeId), sent, { PX: ttlMs, GET: true });
    if (previous !== sent && sent === incarnation) await rewrite();
  };
  /** Clears lapsed entries from every scope, a batch of keys at a time, if no other process is sweeping this round. */
  const sweep = async () => {
    const lease = await client.set(`${prefix}roster-sweep`, nodeId, { NX: true, PX: sweepMs });
    if (lease === null) return;
    for await (const keys of client.scanIterator({ MATCH: `${globEscape(`${prefix}roster:`)}*`, COUNT: 500 })) {
      for (const key of keys) {
        if (!open) return;
        await readLive(key, false);
      }
    }
  };
  let open = true;
  await client.set(liveKey(nodeId), incarnation, { PX: ttlMs });
  client.on('ready', () => {
    // After the first connect, every 'ready' is a reconnection: Redis may have restarted empty.
    if (open) rewrite().catch(options.onError);
  });
  const renewal = everyNowAndThen(renew, Math.max(1, Math.floor(ttlMs / 3)), options.onError);
  const sweeper = everyNowAndThen(sweep, sweepMs, options.onError);

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
      // Entries no live incarnation vouches for (a process that stopped renewing, or one from before a
      // reconnection) are cleared by whoever reads them first.
      const values = await readLive(scopeKey(scope), true);
      return values.map((value) => superjson.parse(value));
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

/** Runs `task` every `intervalMs`, never two at once (a slow Redis does not pile them up); failures go to `onError`. */
function everyNowAndThen(task: () => Promise<void>, intervalMs: number, onError: (error: unknown) => void) {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return timer;
}
