import { randomBytes } from 'node:crypto';
import { redisServerBinary, startRedisServer } from '@tether/testing';
import { describe, expect, it } from 'vitest';
import type { Bus } from './bus';
import { createRedisBus } from './redis-bus';

const binary = await redisServerBinary();
if (!binary)
  console.warn('[skip] the Redis bus across a Redis restart: redis-server is not installed (.ci/run installs it)');

describe.skipIf(!binary)('the Redis bus when Redis restarts', () => {
  it('fails a publish at once while Redis is down, then reconnects and re-subscribes by itself', async () => {
    const redis = await startRedisServer();
    const errors: unknown[] = [];
    let reconnected = 0;
    const reconnections: Array<() => void> = [];
    const channelPrefix = `restart-${randomBytes(3).toString('hex')}:`;
    const open = () =>
      createRedisBus({
        url: redis.url,
        channelPrefix,
        onError: (error) => errors.push(error),
        onReconnected: () => {
          reconnected += 1;
          for (const resolve of reconnections.splice(0)) resolve();
        },
      });
    const buses: Bus[] = [];
    try {
      const a = await open();
      const b = await open();
      buses.push(a, b);
      const heard: unknown[] = [];
      const waiters: Array<() => void> = [];
      b.subscribe('t', (message) => {
        heard.push(message);
        for (const resolve of waiters.splice(0)) resolve();
      });
      await b.listening('t');
      await a.publish('t', 'before');
      await new Promise<void>((resolve) => (heard.length > 0 ? resolve() : waiters.push(resolve)));

      await redis.stop();
      // No offline queue: the doorbell fails at once instead of ringing late (subscribers read the store instead).
      await expect(a.publish('t', 'while down')).rejects.toThrow();
      // A first listener of a topic while Redis is away: its SUBSCRIBE fails (settled once the client gives up on it).
      const lateHeard: unknown[] = [];
      b.subscribe('late', (message) => {
        lateHeard.push(message);
        for (const resolve of waiters.splice(0)) resolve();
      });
      await b.listening('late');

      const bothBack = new Promise<void>((resolve) => reconnections.push(resolve));
      await redis.start();
      await bothBack;
      await new Promise<void>((resolve) => (reconnected >= 2 ? resolve() : reconnections.push(resolve)));
      // The subscriber's SUBSCRIBE goes again on reconnect, on its own connection: a publish may beat it,
      // and a doorbell lost so is by design. Ring until heard, a bounded number of times.
      for (let attempt = 0; attempt < 50 && !(heard.includes('after') && lateHeard.length > 0); attempt += 1) {
        await a.publish('t', 'after');
        await a.publish('late', 'after');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      expect(heard[0]).toBe('before');
      expect(heard).toContain('after');
      expect(heard).not.toContain('while down');
      // Asked again once Redis was back: the topic is not deaf on this process.
      expect(lateHeard).toContain('after');
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await Promise.all(buses.map((bus) => bus.close()));
      await redis.stop();
    }
  }, 30_000);
});
