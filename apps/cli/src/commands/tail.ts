import type { ConnectionStatus } from '@tether/client';
import type { RoomStreamItem } from '@tether/protocol';
import { parseCommand } from '../args';
import { UsageError } from '../errors';
import type { Output } from '../output';
import { findRoom } from '../rooms-lookup';
import { streamUntilInterrupted } from '../stream';
import type { Command } from './command';
import { formatMessage } from './messages';

function describeStatus(status: ConnectionStatus): string {
  const close = status.lastCloseCode
    ? ` (last close ${status.lastCloseCode}${status.lastCloseReason ? `: ${status.lastCloseReason}` : ''})`
    : '';
  const over = status.transport === 'http' ? ' over HTTP' : '';
  switch (status.state) {
    case 'reconnecting':
      if (status.retryAt === null) return `connection: reconnecting${over}, attempt ${status.attempt}${close}`;
      return `connection: reconnecting${over} in ${(Math.max(0, status.retryAt - Date.now()) / 1000).toFixed(1)} s, attempt ${status.attempt}${close}`;
    case 'closed':
      return `connection: closed (${status.reason})${close}`;
    case 'connected':
      return status.transport === 'http'
        ? 'connection: connected over HTTP (WebSocket is blocked; trying it again in the background)'
        : 'connection: connected';
    default:
      return `connection: ${status.state}`;
  }
}

function describeEvent(output: Output, item: RoomStreamItem): string | null {
  switch (item.type) {
    case 'message.sent':
      return formatMessage(output, item.message);
    case 'message.edited':
      return `${formatMessage(output, item.message)} ${output.style.dim('(edit)')}`;
    case 'message.deleted':
      return output.style.dim(`#${item.seq} ${item.by.username} deleted a message`);
    case 'member.joined':
      return output.style.dim(`#${item.seq} ${item.member.username} joined`);
    case 'member.left':
      return output.style.dim(`#${item.seq} ${item.member.username} left`);
    case 'synced':
      return null;
  }
}

export const tail: Command = async (ctx, args) => {
  const parsed = parseCommand(
    args,
    {
      usage:
        'Usage: tether tail ROOM [--since SEQ]\n  Follows a room live (after replaying events after SEQ, if given). Survives server restarts\n  without losing or repeating an event; connection changes go to stderr. Ctrl-C ends it.',
      options: { since: { type: 'string' } },
      positionals: { min: 1, max: 1 },
    },
    ctx.output.line,
  );
  if (!parsed) return;
  const since = parsed.values.since;
  if (since !== undefined && !/^\d+$/.test(since)) throw new UsageError('--since takes a seq (a whole number)');
  const room = await findRoom(await ctx.api(), parsed.positionals[0] as string);
  const client = await ctx.live();
  const { output } = ctx;
  const stopStatus = client.status.subscribe((status) => output.note(describeStatus(status)));
  try {
    await streamUntilInterrupted<{ data: RoomStreamItem }>(
      ctx.io,
      (handlers) =>
        client.trpc.rooms.events.subscribe(
          { roomId: room.id, ...(since === undefined ? {} : { lastEventId: since }) },
          handlers,
        ),
      ({ data }) => {
        // Status for people goes to stderr in both modes; stdout carries only events.
        if (data.type === 'synced') return output.note(`live in ${room.name} from #${data.seq}`);
        if (output.json) return output.data(data);
        const line = describeEvent(output, data);
        if (line) output.line(line);
      },
    );
  } finally {
    stopStatus();
    await client.dispose();
  }
};
