import { createClient } from '@redis/client';

/** Reconnect delays: doubling from 50 ms, at most 2 s, for as long as it takes. */
const reconnectDelay = (retries: number) => Math.min(50 * 2 ** retries, 2_000);

/**
 * A Redis client, not yet connected: it reconnects by itself for as long as
 * it takes, and queues nothing while Redis is away (a command then fails at
 * once, and its caller decides). Every failure goes to `onError`: an unheard
 * 'error' would crash the process.
 */
export function redisClient(
  url: string,
  onError: (error: unknown) => void,
  /** Shown in Redis's CLIENT LIST, so an operator can tell the connections apart. */
  name?: string,
) {
  const client = createClient({
    url,
    name,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnectDelay },
  });
  client.on('error', onError);
  return client;
}

export type RedisClient = ReturnType<typeof redisClient>;
