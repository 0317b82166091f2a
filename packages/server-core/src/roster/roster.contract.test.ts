import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryRoster } from './memory-roster';
import { createRedisRoster } from './redis-roster';
import type { Roster } from './roster';

const sorted = (values: unknown[]) => values.map((value) => JSON.stringify(value)).sort();

describe('roster in one process (memory)', () => {
  it('has no other process to show', async () => {
    const roster = createMemoryRoster();
    await roster.put('room', { online: ['ann'] });
    expect(await roster.others('room')).toEqual([]);
  });
});

const { REDIS_URL } = process.env;
if (REDIS_URL) {
  describe('roster across processes (Redis)', () => {
    const opened: Roster[] = [];
    // Keys of their own: runs sharing the Redis never see each other.
    const keyPrefix = `tether-test-${randomBytes(4).toString('hex')}:`;
    const errors: unknown[] = [];
    const open = async (nodeId: string, ttlMs?: number, sweepMs?: number) => {
      const roster = await createRedisRoster({
        url: REDIS_URL,
        keyPrefix,
        nodeId,
        ttlMs,
        sweepMs,
        onError: (e) => errors.push(e),
      });
      opened.push(roster);
      return roster;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((roster) => roster.close()));
      expect(errors).toEqual([]);
    });

    it('shows each process what the others hold, and what one takes back or closes with', async () => {
      const a = await open('a');
      const b = await open('b');
      const c = await open('c');
      await a.put('room', { online: ['ann'] });
      await b.put('room', { online: ['bob'], typing: ['bob'] });
      expect(sorted(await c.others('room'))).toEqual(
        sorted([{ online: ['ann'] }, { online: ['bob'], typing: ['bob'] }]),
      );
      expect(await a.others('room')).toEqual([{ online: ['bob'], typing: ['bob'] }]);
      expect(await b.others('room')).toEqual([{ online: ['ann'] }]);
      await b.put('room', null);
      expect(await c.others('room')).toEqual([{ online: ['ann'] }]);
      await a.close();
      expect(await c.others('room')).toEqual([]);
    });

    it('drops a process whose liveness lapsed (as after a crash), and clears its entries', async () => {
      const a = await open('a');
      const reader = await open('reader');
      const crashed = await open('crashed');
      await a.put('room', 'a');
      await crashed.put('room', 'crashed');
      // Its liveness key gone, as Redis expires it once a crashed process stops renewing it.
      const raw = createClient({ url: REDIS_URL });
      await raw.connect();
      try {
        await raw.del(`${keyPrefix}roster-node:crashed`);
        expect(await a.others('room')).toEqual([]);
        expect(await reader.others('room')).toEqual(['a']);
        await expect.poll(() => raw.hKeys(`${keyPrefix}roster:room`)).toEqual(['a']);
      } finally {
        await raw.close();
      }
    });
    it('writes itself back when its liveness lapsed while it lived (a stall longer than the TTL)', async () => {
      const reader = await open('reader');
      const stalled = await open('stalled', 300);
      await stalled.put('room', 'still here');
      const raw = createClient({ url: REDIS_URL });
      await raw.connect();
      try {
        // Lapsed, as after a stall, and its entry cleared, as the next reader would: in one step, so that no
        // renewal falls between the two.
        await raw.multi().del(`${keyPrefix}roster-node:stalled`).hDel(`${keyPrefix}roster:room`, 'stalled').exec();
        // Its next renewal (every 100 ms here) finds the key had lapsed, and writes what it holds again.
        await expect.poll(() => reader.others('room')).toEqual(['still here']);
      } finally {
        await raw.close();
      }
    });

    it('counts nothing written before a reconnection, though Redis brings it back (a snapshot loaded at restart)', async () => {
      const reader = await open('reader');
      const a = await open('a');
      await a.put('room', 'gone');
      const raw = createClient({ url: REDIS_URL });
      await raw.connect();
      try {
        const before = await raw.hGetAll(`${keyPrefix}roster:room`);
        await a.put('room', null);
        expect(await reader.others('room')).toEqual([]);
        // Brought back as a snapshot would, then every connection dropped as a restart drops them.
        await raw.hSet(`${keyPrefix}roster:room`, before);
        expect(await reader.others('room')).toEqual(['gone']);
        // Only this process's connection: the Redis may be shared with other suites.
        const clients = (await raw.clientList()).filter((client) => client.name === `${keyPrefix}roster-a`);
        expect(clients).toHaveLength(1);
        await raw.clientKill({ filter: 'ID', id: Number(clients[0]?.id) });
        // Said while the connection is down: held, and written with the rest once it is back.
        await a.put('elsewhere', 'after').catch(() => {});
        // The process came back under a new incarnation: what it held before counts for nothing.
        await expect.poll(() => reader.others('elsewhere').catch(() => null)).toEqual(['after']);
        expect(await reader.others('room')).toEqual([]);
      } finally {
        await raw.close();
        // The dropped connections were reported, as they should be.
        errors.splice(0);
      }
    });

    it('clears the entries of a lapsed process that no reader comes to', async () => {
      await open('sweeper', undefined, 50);
      const raw = createClient({ url: REDIS_URL });
      await raw.connect();
      try {
        await raw.hSet(`${keyPrefix}roster:forgotten`, 'crashed', 'incarnation "gone"');
        await expect.poll(() => raw.exists(`${keyPrefix}roster:forgotten`)).toBe(0);
      } finally {
        await raw.close();
      }
    });
  });
} else {
  console.warn('[skip] the roster across processes (Redis): REDIS_URL is not set');
}
