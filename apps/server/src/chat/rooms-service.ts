import { randomUUID } from 'node:crypto';
import { type Member, type Principal, ResyncError, type Services, type UserRef } from '@tether/protocol';
import type { GroupCommit, RevocationLog, Store, WriteTx } from '@tether/server-core';
import { isUniqueViolation } from '@tether/server-core';
import { TRPCError } from '@trpc/server';
import type { PresenceTracker } from './presence';
import { assertMayRead, findRoom, roomByName, roomForReading, roomForWriting } from './room-access';
import type { RoomEventLog } from './room-events';
import { roomPage } from './room-pages';
import type { WriteLimits } from './write-limits';

const userRef = (principal: Principal): UserRef => ({ id: principal.userId, username: principal.username });

/** The revocation key that ends a member's streams of a private room when they leave it. */
const membershipRevocationKey = (roomId: string, userId: string) => `room-member:${roomId}:${userId}`;
const LEFT_PRIVATE_ROOM = 'you left this private room';

/** Adds a member and records `member.joined`; a no-op for an existing member. */
async function addMember(tx: WriteTx, events: RoomEventLog, roomId: string, user: UserRef): Promise<Member> {
  const [inserted] = await tx.query<{ joined_at: Date }>(
    `INSERT INTO room_members (room_id, user_id) VALUES ($1, $2)
     ON CONFLICT DO NOTHING RETURNING joined_at`,
    [roomId, user.id],
  );
  if (inserted) {
    await events.append(tx, [
      { roomId, build: (seq, at) => ({ type: 'member.joined', roomId, seq, at, member: user }) },
    ]);
    return { user, joinedAt: inserted.joined_at };
  }
  const [existing] = await tx.query<{ joined_at: Date }>(
    'SELECT joined_at FROM room_members WHERE room_id = $1 AND user_id = $2',
    [roomId, user.id],
  );
  return { user, joinedAt: existing?.joined_at ?? new Date() };
}

export function createRoomsService({
  store,
  writes,
  events,
  presence,
  revocations,
  writeLimits,
}: {
  store: Store;
  writes: GroupCommit;
  events: RoomEventLog;
  presence: PresenceTracker;
  /** Ends open streams bound to a revocation key, on every server process, once the write commits. */
  revocations: Pick<RevocationLog, 'record'>;
  writeLimits: Pick<WriteLimits, 'admitRoom' | 'admitWrite'>;
}): Services['rooms'] {
  return {
    async create(principal, input, once) {
      await writeLimits.admitRoom(principal.userId);
      const roomId = randomUUID();
      try {
        return await writes.run(async (tx) => {
          await tx.query('INSERT INTO rooms (id, name, visibility, created_by) VALUES ($1, $2, $3, $4)', [
            roomId,
            input.name,
            input.visibility,
            principal.userId,
          ]);
          await addMember(tx, events, roomId, userRef(principal));
          return findRoom(tx, principal.userId, roomId);
        }, once);
      } catch (error) {
        // Only public names are unique, so a conflict tells of a room anyone can see.
        if (isUniqueViolation(error)) {
          throw new TRPCError({ code: 'CONFLICT', message: `a public room named "${input.name}" already exists` });
        }
        throw error;
      }
    },

    list: (principal, input) => roomPage(store, principal.userId, 'mine', input),
    directory: (principal, input) => roomPage(store, principal.userId, 'directory', input),
    get: (principal, { roomId }) => roomForReading(store, principal, roomId),
    find: (principal, { name }) => roomByName(store, principal.userId, name),

    join: async (principal, { roomId }) => {
      await writeLimits.admitWrite(principal.userId);
      return writes.run(async (tx) => {
        const room = await roomForReading(tx, principal, roomId);
        if (!room.isMember) await addMember(tx, events, roomId, userRef(principal));
        return findRoom(tx, principal.userId, roomId);
      });
    },

    async leave(principal, { roomId }) {
      await writeLimits.admitWrite(principal.userId);
      await writes.run(async (tx) => {
        const room = await findRoom(tx, principal.userId, roomId);
        const removed = await tx.query(
          'DELETE FROM room_members WHERE room_id = $1 AND user_id = $2 RETURNING user_id',
          [roomId, principal.userId],
        );
        if (removed.length === 0) return;
        await events.append(tx, [
          { roomId, build: (seq, at) => ({ type: 'member.left', roomId, seq, at, member: userRef(principal) }) },
        ]);
        // Everyone may read a public room; a private one's streams end with the membership, right
        // after the `member.left` event (published first: effects run in the order they were added).
        if (room.visibility === 'private') {
          await revocations.record(tx, membershipRevocationKey(roomId, principal.userId), LEFT_PRIVATE_ROOM);
        }
      });
    },

    invite: async (principal, { roomId, username }) => {
      await writeLimits.admitWrite(principal.userId);
      return writes.run(async (tx) => {
        await roomForWriting(tx, principal.userId, roomId);
        const [user] = await tx.query<UserRef>('SELECT id, username FROM users WHERE username = $1', [username]);
        if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: `no user named "${username}"` });
        return addMember(tx, events, roomId, user);
      });
    },

    async members(principal, { roomId }) {
      await roomForReading(store, principal, roomId);
      const rows = await store.query<{ id: string; username: string; joined_at: Date }>(
        `SELECT u.id, u.username, m.joined_at FROM room_members m JOIN users u ON u.id = m.user_id
         WHERE m.room_id = $1 ORDER BY m.joined_at, u.username`,
        [roomId],
      );
      return rows.map((row) => ({ user: { id: row.id, username: row.username }, joinedAt: row.joined_at }));
    },

    async events(principal, query, scope) {
      // Bound before access is checked, so a leave between the check and the stream cannot be missed.
      scope.endOnRevoke(membershipRevocationKey(query.roomId, principal.userId), LEFT_PRIVATE_ROOM);
      const { lastSeq } = await assertMayRead(store, principal, query.roomId);
      // A resume point past the head was never given by this server (its data was reset): resuming
      // from it would silently skip every event up to it, so the client is told to start afresh.
      if (query.afterSeq !== null && query.afterSeq > lastSeq) {
        const message = `lastEventId ${query.afterSeq} is past this room's newest event (${lastSeq}): subscribe again without it`;
        throw new TRPCError({ code: 'CONFLICT', message, cause: new ResyncError(lastSeq, message) });
      }
      return events.stream(query);
    },

    async presence(principal, { roomId }, scope) {
      scope.endOnRevoke(membershipRevocationKey(roomId, principal.userId), LEFT_PRIVATE_ROOM);
      await assertMayRead(store, principal, roomId);
      return presence.stream(roomId, userRef(principal));
    },

    async typing(principal, { roomId }) {
      await roomForWriting(store, principal.userId, roomId);
      presence.typing(roomId, userRef(principal));
    },
  };
}
