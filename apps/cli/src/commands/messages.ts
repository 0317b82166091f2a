import { randomUUID } from 'node:crypto';
import type { Message } from '@tether/protocol';
import { parseCommand } from '../args';
import { UsageError } from '../errors';
import type { Output } from '../output';
import { readAll } from '../read-input';
import { findRoom } from '../rooms-lookup';
import type { Command } from './command';

export function formatMessage(output: Output, message: Message): string {
  const time = message.createdAt.toISOString().slice(11, 19);
  const edited = message.editedAt ? output.style.dim(' (edited)') : '';
  return `${output.style.dim(`#${message.seq} ${time}`)} ${output.style.bold(message.author.username)}: ${message.body}${edited}`;
}

export const send: Command = async (ctx, args) => {
  const parsed = parseCommand(
    args,
    {
      usage:
        'Usage: tether send ROOM [TEXT...] [--key KEY]\n  Sends TEXT, or standard input when TEXT is absent (`echo hi | tether send ops`).\n  --key makes a retry safe: the same key never sends twice.',
      options: { key: { type: 'string' } },
      positionals: { min: 1, max: Number.POSITIVE_INFINITY },
    },
    ctx.output.line,
  );
  if (!parsed) return;
  const [roomName, ...words] = parsed.positionals;
  const body = words.length > 0 ? words.join(' ') : (await readAll(ctx.io.stdin)).replace(/\r?\n$/, '');
  if (body.trim().length === 0) throw new UsageError('nothing to send: give TEXT or pipe it in');
  const api = await ctx.api();
  const room = await findRoom(api, roomName as string);
  const message = await api.messages.send.mutate({
    roomId: room.id,
    body,
    idempotencyKey: parsed.values.key ?? `cli-${randomUUID()}`,
  });
  if (ctx.output.json) ctx.output.data(message);
  else ctx.output.line(`Sent to ${room.name} as #${message.seq}`);
};

export const history: Command = async (ctx, args) => {
  const parsed = parseCommand(
    args,
    {
      usage:
        'Usage: tether history ROOM [--limit N] [--before SEQ]\n  The newest N messages (default 20) before SEQ, oldest first.',
      options: { limit: { type: 'string' }, before: { type: 'string' } },
      positionals: { min: 1, max: 1 },
    },
    ctx.output.line,
  );
  if (!parsed) return;
  const toInt = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0) throw new UsageError(`--${name} takes a whole number`);
    return number;
  };
  const api = await ctx.api();
  const room = await findRoom(api, parsed.positionals[0] as string);
  const limit = toInt(parsed.values.limit, 'limit') ?? 20;
  const beforeSeq = toInt(parsed.values.before, 'before');
  const page = await api.messages.list.query({
    roomId: room.id,
    limit,
    ...(beforeSeq === undefined ? {} : { beforeSeq }),
  });
  const messages = [...page.messages].reverse();
  if (ctx.output.json) return ctx.output.data(messages);
  for (const message of messages) ctx.output.line(formatMessage(ctx.output, message));
  if (page.nextBeforeSeq !== null)
    ctx.output.line(ctx.output.style.dim(`older: tether history ${room.name} --before ${page.nextBeforeSeq}`));
};
