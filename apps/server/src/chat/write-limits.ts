import type { RedisClient } from '@tether/server-core';
import { limiterFactory, takePoint } from './rate-limiter';

export interface WriteLimitSettings {
  /**
   * Writes one user may make per minute, over all rooms and connections: each
   * stores an event every member is sent (messages sent, edited, deleted; joins, leaves, invites).
   */
  writesPerMinute: number;
  /** Rooms one user may create per hour, a sixth of them in any minute. */
  roomsPerHour: number;
}

/** The label a refusal is counted under in `tether_limit_refusals_total`. */
export type WriteLimit = 'writes_per_user' | 'rooms_per_user';

/** Refuse with TOO_MANY_REQUESTS and a time to retry, so one account can neither fill the disk nor everyone's lists. */
export interface WriteLimits {
  /** Counts a write by `userId`: a message sent, edited or deleted, a join, a leave or an invite. */
  admitWrite(userId: string): Promise<void>;
  /** Counts a room created by `userId`. */
  admitRoom(userId: string): Promise<void>;
}

/** Per-user write rates, across every process when given Redis. */
export function createWriteLimits(
  settings: WriteLimitSettings,
  options: { redis?: RedisClient; onRefused?(limit: WriteLimit): void } = {},
): WriteLimits {
  const limiter = limiterFactory(options.redis);
  const writes = limiter('writes', settings.writesPerMinute, 60);
  const rooms = limiter('writes-rooms', settings.roomsPerHour, 60 * 60);
  // The hour's quota spread over it: a spammer's burst of new rooms is what every other write waits behind.
  const roomsThisMinute = limiter('writes-rooms-minute', Math.ceil(settings.roomsPerHour / 6), 60);
  return {
    admitWrite: (userId) =>
      takePoint(writes, userId, 'too many writes from you', () => options.onRefused?.('writes_per_user')),
    async admitRoom(userId) {
      const refused = () => options.onRefused?.('rooms_per_user');
      await takePoint(roomsThisMinute, userId, 'too many new rooms from you', refused);
      await takePoint(rooms, userId, 'too many new rooms from you', refused);
    },
  };
}
