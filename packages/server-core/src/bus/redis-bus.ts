import superjson from 'superjson';
import { redisClient } from '../redis/redis-client';
import type { Bus, BusListener } from './bus';

export interface RedisBusOptions {
  /** `redis://host:port/db`. */
  url: string;
  /** Put before every topic to make its channel, so several deployments can share one Redis. @default 'tether:' */
  channelPrefix?: string;
  /** A Redis failure or a listener that threw: reported, never thrown (the bus reconnects by itself). */
  onError(error: unknown): void;
  /** Both connections are up again after a loss (for a log line). */
  onReconnected?(): void;
}

/**
 * The bus between server processes: Redis pub/sub, one channel per topic
 * that some listener of this process hears. A message is serialized once by
 * its publisher (superjson: Dates and the like survive) and parsed once per
 * process, so every local listener gets the same object (and the frames
 * built from it are shared). Redis is only the doorbell: a publish made while
 * it is down fails at once (no offline queue), and subscribers find what they
 * missed in the store. Both connections reconnect by themselves, and the
 * subscriber's channels are subscribed again.
 */
export async function createRedisBus(options: RedisBusOptions): Promise<Bus> {
  const prefix = options.channelPrefix ?? 'tether:';
  const publisher = redisClient(options.url, options.onError);
  const subscriber = redisClient(options.url, options.onError);
  await Promise.all([publisher.connect(), subscriber.connect()]);
  const topics = new Map<string, Set<BusListener>>();
  /** Each topic's SUBSCRIBE, resolved once Redis confirmed it. */
  const subscribed = new Map<string, Promise<void>>();
  /**
   * Topics whose SUBSCRIBE failed (asked while Redis was away): the client
   * re-subscribes only what Redis confirmed, so these are asked again at the
   * next 'ready', or the topic would stay deaf on this process.
   */
  const unconfirmed = new Set<string>();

  const subscribeChannel = (topic: string): Promise<void> =>
    subscriber.subscribe(prefix + topic, onMessage).then(
      () => {
        unconfirmed.delete(topic);
      },
      (error: unknown) => {
        if (topics.has(topic)) unconfirmed.add(topic);
        options.onError(error);
      },
    );

  // After the first connect, every 'ready' is a reconnection: reported once both connections are back.
  const onReady = () => {
    if (publisher.isReady && subscriber.isReady) options.onReconnected?.();
  };
  publisher.on('ready', onReady);
  subscriber.on('ready', () => {
    for (const topic of unconfirmed) if (topics.has(topic)) subscribed.set(topic, subscribeChannel(topic));
    onReady();
  });

  const onMessage = (payload: string, channel: string) => {
    const listeners = topics.get(channel.slice(prefix.length));
    if (!listeners) return;
    let message: unknown;
    try {
      message = superjson.parse(payload);
    } catch (error) {
      options.onError(error);
      return;
    }
    for (const listener of [...listeners]) {
      try {
        listener(message);
      } catch (error) {
        options.onError(error);
      }
    }
  };

  return {
    async publish(topic, message) {
      await publisher.publish(prefix + topic, superjson.stringify(message));
    },
    subscribe(topic, listener) {
      let listeners = topics.get(topic);
      if (!listeners) {
        listeners = new Set();
        topics.set(topic, listeners);
        subscribed.set(topic, subscribeChannel(topic));
      }
      listeners.add(listener);
    },
    unsubscribe(topic, listener) {
      const listeners = topics.get(topic);
      if (!listeners?.delete(listener) || listeners.size > 0) return;
      topics.delete(topic);
      subscribed.delete(topic);
      unconfirmed.delete(topic);
      subscriber.unsubscribe(prefix + topic, onMessage).catch(options.onError);
    },
    listening(topic) {
      return subscribed.get(topic) ?? Promise.resolve();
    },
    async close() {
      topics.clear();
      subscribed.clear();
      await Promise.allSettled([publisher.close(), subscriber.close()]);
    },
  };
}
