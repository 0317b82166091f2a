import { SCOPES, type Scope } from '@tether/protocol';
import { parseCommand, subcommand } from '../args';
import { UsageError } from '../errors';
import { findRoom } from '../rooms-lookup';
import type { Command } from './command';

const USAGE = `Usage:
  tether tokens create --name NAME --scope SCOPE [--scope SCOPE...] [--room ROOM...]
  tether tokens ls
  tether tokens revoke ID
Scopes: ${SCOPES.join(', ')}. A token acts as its own bot NAME, only within its scopes and rooms.
Use it with TETHER_TOKEN=... tether send ROOM-ID TEXT, or from @tether/client.`;

export const tokens: Command = async (ctx, args) => {
  const { output } = ctx;
  const split = subcommand(args, USAGE, output.line);
  if (!split) return;
  const [action, rest] = split;
  const parsed = parseCommand(
    rest,
    {
      usage: USAGE,
      options: {
        name: { type: 'string' },
        scope: { type: 'string', multiple: true },
        room: { type: 'string', multiple: true },
      },
    },
    output.line,
  );
  if (!parsed) return;
  const api = await ctx.api();
  switch (action) {
    case 'create': {
      const { name, scope = [], room = [] } = parsed.values;
      if (!name || scope.length === 0) throw new UsageError(`--name and at least one --scope are needed\n\n${USAGE}`);
      const unknown = scope.filter((s) => !(SCOPES as readonly string[]).includes(s));
      if (unknown.length > 0) throw new UsageError(`unknown scope ${unknown.join(', ')}; scopes: ${SCOPES.join(', ')}`);
      const rooms = await Promise.all(room.map((r) => findRoom(api, r)));
      const created = await api.tokens.create.mutate({
        name,
        scopes: scope as Scope[],
        roomIds: rooms.map((r) => r.id),
      });
      if (output.json) return output.data(created);
      output.line(`Created service token ${output.style.bold(created.name)} (${created.id})`);
      output.line(
        `scopes: ${created.scopes.join(', ')}; rooms: ${rooms.map((r) => `${r.name} (${r.id})`).join(', ') || 'any it is added to'}`,
      );
      output.line(`token:  ${created.token}`);
      return output.note('Store the token now: it is not shown again.');
    }
    case 'ls': {
      const list = await api.tokens.list.query();
      if (output.json) return output.data(list);
      return output.table(
        list.map((t) => [
          t.id,
          t.name,
          t.scopes.join(','),
          String(t.roomIds.length || 'any'),
          t.revokedAt ? 'revoked' : 'active',
        ]),
        ['ID', 'NAME', 'SCOPES', 'ROOMS', 'STATE'],
      );
    }
    case 'revoke': {
      const [id] = parsed.positionals;
      if (!id) throw new UsageError(USAGE);
      await api.tokens.revoke.mutate({ id });
      return output.json ? output.data({ id, revoked: true }) : output.line(`Revoked ${id}`);
    }
    default:
      throw new UsageError(`unknown tokens action "${action}"\n\n${USAGE}`);
  }
};
