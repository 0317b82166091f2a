import {
  type Bus,
  createMemoryBus,
  createMemoryRoster,
  createRedisBus,
  createRedisRoster,
  errorMessage,
  type Logger,
  type RedisClient,
  type Roster,
  redisClient,
} from '@tether/server-core';

/** Where events, presence and shared counts travel between the server's processes. */
export interface FanOut {
  bus: Bus;
  roster: Roster;
  /** Whether other processes share it (through Redis): only then is there anyone else to count with. */
  shared: boolean;
  /** A Redis client for counts every process shares (the sign-in and write limits); null in one process. */
  counters: RedisClient | null;
  /**
   * Set where the bus can lose a message (Redis, across its restart): how
   * often streams check their heads and presence is read again, so that
   * nothing waits for the next doorbell. Null in one process, where nothing is lost.
   */
  recheckMs: number | null;
  close(): Promise<void>;
}

/** A process that stops renewing its roster entries (a crash) is out of them after this long. */
const ROSTER_TTL_MS = 10_000;

/** In one process by default; through Redis when `redisUrl` is set (several processes on one PostgreSQL). */
export async function openFanOut(
  redisUrl: string | undefined,
  /** How often heads and presence are checked again across processes: a dead process's users go within the roster's TTL plus this. */
  recheckMs: number,
  logger: Logger,
): Promise<FanOut> {
  if (!redisUrl) {
    const bus = createMemoryBus();
    const roster = createMemoryRoster();
    return {
      bus,
      roster,
      shared: false,
      counters: null,
      recheckMs: null,
      close: async () => void (await Promise.all([bus.close(), roster.close()])),
    };
  }
  // Redis errors are logged, never thrown: the clients reconnect by themselves, and streams fill gaps from the store.
  const onError = (error: unknown) => logger.warn('redis.error', { message: errorMessage(error) });
  const bus = await createRedisBus({
    url: redisUrl,
    onError,
    onReconnected: () => logger.info('redis.reconnected', {}),
  });
  const counters = redisClient(redisUrl, onError);
  try {
    await counters.connect();
    const roster = await createRedisRoster({ url: redisUrl, ttlMs: ROSTER_TTL_MS, onError });
    logger.info('fanout.redis', { recheckMs, rosterTtlMs: ROSTER_TTL_MS });
    return {
      bus,
      roster,
      shared: true,
      counters,
      recheckMs,
      close: async () => void (await Promise.all([bus.close(), roster.close(), counters.close().catch(() => {})])),
    };
  } catch (error) {
    await Promise.all([bus.close(), counters.close().catch(() => {})]);
    throw error;
  }
}
