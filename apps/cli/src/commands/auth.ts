import { parseCommand } from '../args';
import { readSecret } from '../read-input';
import type { Command } from './command';

export const login: Command = async (ctx, args) => {
  const parsed = parseCommand(
    args,
    {
      usage:
        'Usage: tether login [USERNAME] [--new]\n  Signs in (or, with --new, creates the account).\n  The password is prompted without echo, or read from the first line of standard input.',
      options: { new: { type: 'boolean' } },
      positionals: { min: 0, max: 1 },
    },
    ctx.output.line,
  );
  if (!parsed) return;
  const username = parsed.positionals[0] ?? (await readSecretLine(ctx, 'Username: '));
  const password = await readSecret(ctx.io, 'Password: ');
  const api = ctx.anonymous();
  const session = await (parsed.values.new ? api.auth.signUp : api.auth.signIn).mutate({ username, password });
  await ctx.credentials.set(ctx.url, session);
  if (ctx.output.json) ctx.output.data(session.user);
  else ctx.output.line(`Signed in to ${ctx.url} as ${ctx.output.style.bold(session.user.username)}`);
};

/** A visible prompt for the username (only on a terminal). */
async function readSecretLine(ctx: Parameters<Command>[0], prompt: string): Promise<string> {
  if (!ctx.io.stdin.isTTY) throw new Error('give the username as an argument when input is not a terminal');
  ctx.io.stderr.write(prompt);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr as NodeJS.WritableStream });
  const answer = await rl.question('');
  rl.close();
  return answer.trim();
}

export const logout: Command = async (ctx, args) => {
  if (
    !parseCommand(
      args,
      { usage: 'Usage: tether logout\n  Ends the session with this server and forgets it.' },
      ctx.output.line,
    )
  )
    return;
  const saved = await ctx.credentials.get(ctx.url);
  if (saved)
    await ctx
      .anonymous()
      .auth.signOut.mutate({ refreshToken: saved.refreshToken })
      .catch(() => {});
  await ctx.credentials.set(ctx.url, null);
  if (ctx.output.json) ctx.output.data({ signedOut: true });
  else ctx.output.line(saved ? `Signed out of ${ctx.url}` : `Not signed in to ${ctx.url}`);
};

export const whoami: Command = async (ctx, args) => {
  if (!parseCommand(args, { usage: 'Usage: tether whoami\n  The signed-in user.' }, ctx.output.line)) return;
  const user = await (await ctx.api()).auth.me.query();
  if (ctx.output.json) ctx.output.data(user);
  else ctx.output.line(`${user.username} ${ctx.output.style.dim(`on ${ctx.url}`)}`);
};
