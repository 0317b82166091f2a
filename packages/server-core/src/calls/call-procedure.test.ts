import { callTRPCProcedure, initTRPC, TRPCError, type TRPCProcedureType } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callProcedure } from './call-procedure';

const t = initTRPC.context<{ user: string | null }>().create();
const seen: string[] = [];

/** Every feature of tRPC's middleware chain that the walk must reproduce. */
const router = t.router({
  echo: t.procedure
    .use(({ next }) => next({ ctx: { role: 'reader' } }))
    .input(z.object({ text: z.string().min(1) }))
    .use(({ input, next }) => next({ input: { ...input, shout: input.text.toUpperCase() } }))
    .use(async ({ next, path, type, meta, getRawInput }) => {
      const result = await next();
      seen.push(
        `${type} ${path} ok=${result.ok} meta=${JSON.stringify(meta)} raw=${JSON.stringify(await getRawInput())}`,
      );
      return result;
    })
    .output(z.object({ user: z.string(), role: z.string(), input: z.unknown() }))
    .query(({ ctx, input }) => ({ user: ctx.user ?? 'anonymous', role: ctx.role, input })),
  guarded: t.procedure
    .use(async ({ next }) => {
      const result = await next();
      // A throw inside is a failed result out here, not an exception.
      seen.push(`guarded ok=${result.ok}`);
      return result;
    })
    .use(({ ctx, next }) => {
      if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in' });
      return next();
    })
    .mutation(() => 'done'),
  forgetful: t.procedure.use((() => undefined) as never).query(() => 'never'),
  badOutput: t.procedure.output(z.number()).query(() => 'not a number' as unknown as number),
});

async function outcome(
  call: (options: { type: TRPCProcedureType; path: string; input: unknown; ctx: object }) => Promise<unknown>,
  type: TRPCProcedureType,
  path: string,
  input: unknown,
  ctx: object,
) {
  seen.length = 0;
  try {
    return { data: await call({ type, path, input, ctx }), seen: [...seen] };
  } catch (error) {
    const { code, message } = error as TRPCError;
    return { error: { code, message }, seen: [...seen] };
  }
}

const ours = (options: { type: TRPCProcedureType; path: string; input: unknown; ctx: object }) =>
  callProcedure(router, options);
const theirs = (options: { type: TRPCProcedureType; path: string; input: unknown; ctx: object }) =>
  callTRPCProcedure({ router, ...options, getRawInput: async () => options.input, signal: undefined, batchIndex: 0 });

describe('callProcedure: tRPC middleware chain, walked without its spread helper', () => {
  const cases: Array<[TRPCProcedureType, string, unknown, object]> = [
    ['query', 'echo', { text: 'hi' }, { user: 'ada' }],
    ['query', 'echo', { text: 'hi' }, { user: null }],
    ['query', 'echo', { text: '' }, { user: 'ada' }],
    ['mutation', 'guarded', undefined, { user: 'ada' }],
    ['mutation', 'guarded', undefined, { user: null }],
    ['query', 'forgetful', undefined, { user: null }],
    ['query', 'badOutput', undefined, { user: null }],
    ['mutation', 'echo', { text: 'hi' }, { user: 'ada' }],
    ['query', 'missing', undefined, { user: null }],
  ];

  it.each(cases)(
    '%s %s: the same data, error and middleware view as tRPC’s own call',
    async (type, path, input, ctx) => {
      const expected = await outcome(theirs, type, path, input, ctx);
      expect(await outcome(ours, type, path, input, ctx)).toEqual(expected);
    },
  );

  it('merges context and input through next, as tRPC does', async () => {
    const { data, seen: views } = await outcome(ours, 'query', 'echo', { text: 'hi' }, { user: null });
    expect(data).toEqual({ user: 'anonymous', role: 'reader', input: { text: 'hi', shout: 'HI' } });
    expect(views).toEqual(['query echo ok=true meta=undefined raw={"text":"hi"}']);
  });
});
