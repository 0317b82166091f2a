import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseCommand } from '../args';
import { UsageError } from '../errors';
import { findRoom } from '../rooms-lookup';
import type { Command } from './command';

const CONCURRENCY = 4;

/** One message per line: a JSON string, or an object with a `body`. */
function parseLine(line: string, number: number): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new UsageError(`line ${number}: not JSON`);
  }
  const body = typeof value === 'string' ? value : (value as { body?: unknown } | null)?.body;
  if (typeof body !== 'string') throw new UsageError(`line ${number}: expected a string or an object with a "body"`);
  return body;
}

function progressText(done: number, total: number, startedAt: number): string {
  const seconds = (performance.now() - startedAt) / 1000;
  const rate = done / Math.max(seconds, 0.001);
  const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
  return `${done}/${total} messages, ${rate.toFixed(0)}/s, ETA ${eta} s`;
}

export const importFile: Command = async (ctx, args) => {
  const parsed = parseCommand(
    args,
    {
      usage:
        'Usage: tether import FILE.ndjson ROOM\n  Sends one message per line ("text" or {"body": "text"}). Each line\'s idempotency key comes\n  from the file\'s content and the line number, so re-running an interrupted import sends only the rest.',
      positionals: { min: 2, max: 2 },
    },
    ctx.output.line,
  );
  if (!parsed) return;
  const [file, roomName] = parsed.positionals as [string, string];
  const content = await readFile(file, 'utf8');
  const fileId = createHash('sha256').update(content).digest('base64url').slice(0, 22);
  const lines = content
    .split(/\r?\n/)
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim() !== '');
  const bodies = lines.map(({ line, number }) => ({ number, body: parseLine(line, number) }));
  const api = await ctx.api();
  const room = await findRoom(api, roomName);
  const tty = Boolean((ctx.io.stderr as { isTTY?: boolean }).isTTY) && !ctx.output.json;
  const startedAt = performance.now();
  let done = 0;
  let lastReport = 0;
  let stop = false;
  void ctx.io.interrupted.then(() => {
    stop = true;
  });
  const report = (final = false) => {
    const now = performance.now();
    if (!final && now - lastReport < (tty ? 100 : 1000)) return;
    lastReport = now;
    const text = progressText(done, bodies.length, startedAt);
    if (tty) {
      const width = 24;
      const filled = Math.round((done / Math.max(bodies.length, 1)) * width);
      ctx.io.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${text}${final ? '\n' : ''}`);
    } else ctx.output.note(`import: ${text}`);
  };

  let next = 0;
  const worker = async () => {
    while (!stop && next < bodies.length) {
      const item = bodies[next++] as { number: number; body: string };
      await api.messages.send.mutate({
        roomId: room.id,
        body: item.body,
        idempotencyKey: `import:${fileId}:${item.number}`,
      });
      done += 1;
      report();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  report(true);
  const summary = { file, room: room.name, sent: done, total: bodies.length, complete: done === bodies.length };
  if (ctx.output.json) ctx.output.data(summary);
  if (!summary.complete)
    throw new Error(`import stopped after ${done} of ${bodies.length}; run it again to send the rest`);
  if (!ctx.output.json) ctx.output.line(`Imported ${done} messages into ${room.name}`);
};
