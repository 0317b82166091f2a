import { randomUUID } from 'node:crypto';
import { parseCommand, subcommand } from '../args';
import { UsageError } from '../errors';
import { allRooms, findRoom } from '../rooms-lookup';
import type { Command } from './command';

const USAGE = `Usage:
  tether rooms ls [--public] [--name TEXT]   your rooms; --public: the public rooms to join
  tether rooms create NAME [--private]
  tether rooms join ROOM
  tether rooms leave ROOM
  tether rooms invite ROOM USER
  tether rooms members ROOM`;

export const rooms: Command = async (ctx, args) => {
  const { output } = ctx;
  const split = subcommand(args, USAGE, output.line);
  if (!split) return;
  const [action, rest] = split;
  const parsed = parseCommand(
    rest,
    { usage: USAGE, options: { private: { type: 'boolean' }, public: { type: 'boolean' }, name: { type: 'string' } } },
    output.line,
  );
  if (!parsed) return;
  const [first, second] = parsed.positionals;
  const api = await ctx.api();
  const need = (count: number) => {
    if (parsed.positionals.length !== count) throw new UsageError(`wrong number of arguments\n\n${USAGE}`);
  };
  switch (action) {
    case 'ls': {
      need(0);
      const list = await allRooms(api, parsed.values.public ? 'directory' : 'mine', parsed.values.name);
      if (output.json) return output.data(list);
      return output.table(
        list.map((r) => [r.name, r.visibility, String(r.memberCount), r.isMember ? 'yes' : '', String(r.lastSeq)]),
        ['ROOM', 'VISIBILITY', 'MEMBERS', 'JOINED', 'LAST SEQ'],
      );
    }
    case 'create': {
      need(1);
      const room = await api.rooms.create.mutate({
        name: first as string,
        visibility: parsed.values.private ? 'private' : 'public',
        idempotencyKey: `cli-${randomUUID()}`,
      });
      return output.json
        ? output.data(room)
        : output.line(`Created ${room.visibility} room ${output.style.bold(room.name)}`);
    }
    case 'join':
    case 'leave': {
      need(1);
      const room = await findRoom(api, first as string);
      if (action === 'join') await api.rooms.join.mutate({ roomId: room.id });
      else await api.rooms.leave.mutate({ roomId: room.id });
      return output.json
        ? output.data({ room: room.name, [action === 'join' ? 'joined' : 'left']: true })
        : output.line(`${action === 'join' ? 'Joined' : 'Left'} ${room.name}`);
    }
    case 'invite': {
      need(2);
      const room = await findRoom(api, first as string);
      const member = await api.rooms.invite.mutate({ roomId: room.id, username: second as string });
      return output.json ? output.data(member) : output.line(`${member.user.username} is now in ${room.name}`);
    }
    case 'members': {
      need(1);
      const room = await findRoom(api, first as string);
      const members = await api.rooms.members.query({ roomId: room.id });
      if (output.json) return output.data(members);
      return output.table(
        members.map((m) => [m.user.username, m.joinedAt.toISOString()]),
        ['USER', 'JOINED'],
      );
    }
    default:
      throw new UsageError(`unknown rooms action "${action}"\n\n${USAGE}`);
  }
};
