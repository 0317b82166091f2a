import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTetherClient, type TetherClient } from '@tether/client/node';
import { formatError, type SessionContext, type WithConnectionRouter } from '@tether/protocol';
import { initTRPC, TRPCError, tracked } from '@trpc/server';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryBus } from '../src/bus/memory-bus';
import { createHttpHandler } from '../src/http/http-handler';
import { createLogger } from '../src/logger';
import { busRevocations } from '../src/session/revocations';
import { createSessionCore, type SessionCore } from '../src/session-core';
import { pushable } from '../src/streams/pushable';

/**
 * The fork story (docs/ARCHITECTURE.md): another product keeps the session core and the
 * client and replaces only the app. This one is a counter: two procedures,
 * one subscription, its own principal type, and not a line of chat.
 */
interface Player {
  name: string;
}
const t = initTRPC
  .context<SessionContext<Player>>()
  .create({ transformer: superjson, isDev: false, errorFormatter: formatError });
let count = 0;
const counterRouter = t.router({
  whoAmI: t.procedure.query(({ ctx }) => {
    if (!ctx.principal) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'who are you?' });
    return ctx.principal.name;
  }),
  bump: t.procedure.input(z.object({ by: z.number().int() })).mutation(({ input }) => {
    count += input.by;
    return { count, at: new Date() };
  }),
  countdown: t.procedure.input(z.object({ from: z.number().int().max(10) })).subscription(async function* ({ input }) {
    for (let n = input.from; n >= 0; n -= 1) yield tracked(String(n), { n });
  }),
  /** Pushed rather than pulled (protocol's `Pushable`): the core hands it a sink. */
  ticks: t.procedure.input(z.object({ count: z.number().int().max(10) })).subscription(({ input }) =>
    pushable<number>((sink) => {
      for (let n = 0; n < input.count; n += 1) sink.next(n);
      sink.complete();
      return { stop: () => {} };
    }),
  ),
  /** A pushed stream that cannot start. */
  broken: t.procedure.subscription(() =>
    pushable<number>(() => {
      throw new Error('the stream could not start');
    }),
  ),
});

type CounterRouter = WithConnectionRouter<typeof counterRouter>;

let core: SessionCore<typeof counterRouter>;
let server: Server;
let client: TetherClient<CounterRouter>;

beforeAll(async () => {
  core = createSessionCore({
    router: counterRouter,
    authenticate: async (token) => {
      if (!token.startsWith('player:')) throw new Error('not a player token');
      const name = token.slice('player:'.length);
      return { principal: { name }, principalKey: name, expiresAt: new Date(Date.now() + 60_000), revocationKeys: [] };
    },
    revocations: busRevocations(createMemoryBus()),
    version: 'counter-1',
    logger: createLogger('silent'),
  });
  server = createServer(createHttpHandler({ trpc: core.handleTrpc, isReady: async () => true, webRoot: undefined }));
  server.on('upgrade', core.handleUpgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = createTetherClient<CounterRouter>({ url: `ws://127.0.0.1:${port}/trpc`, getToken: () => 'player:ann' });
});

afterAll(async () => {
  await client.dispose();
  await core.shutdown(0);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('a second app served by the same core and called by the Tether client', () => {
  it('calls its queries and mutations with its own principal, superjson intact', async () => {
    expect(await client.trpc.whoAmI.query()).toBe('ann');
    const bumped = await client.trpc.bump.mutate({ by: 2 });
    expect(bumped.count).toBe(2);
    expect(bumped.at).toBeInstanceOf(Date);
  });

  it('streams its subscription, tracked, to the end', async () => {
    const seen = await new Promise<number[]>((resolve, reject) => {
      const items: number[] = [];
      client.trpc.countdown.subscribe(
        { from: 3 },
        {
          onData: ({ id, data }) => items.push(Number(id) === data.n ? data.n : -1),
          onComplete: () => resolve(items),
          onError: reject,
        },
      );
    });
    expect(seen).toEqual([3, 2, 1, 0]);
  });

  it('pushes a pushable subscription, and fails one that cannot start, freeing its slot', async () => {
    const ticks = await new Promise<number[]>((resolve, reject) => {
      const items: number[] = [];
      client.trpc.ticks.subscribe(
        { count: 3 },
        { onData: (n) => items.push(n), onComplete: () => resolve(items), onError: reject },
      );
    });
    expect(ticks).toEqual([0, 1, 2]);
    const failure = await new Promise<unknown>((resolve) => {
      client.trpc.broken.subscribe(undefined, { onError: resolve, onData: () => resolve('data') });
    });
    // The cause stays on the server: the client hears a generic internal error.
    expect(failure).toMatchObject({ data: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(await client.trpc.connection.health.query()).toMatchObject({ subscriptions: 0 });
  });

  it('serves the generic connection router beside it', async () => {
    const health = await client.trpc.connection.health.query();
    expect(health).toMatchObject({ status: 'ok', version: 'counter-1', connections: 1 });
    await expect(client.trpc.connection.renew.mutate({ accessToken: 'player:bob' })).rejects.toMatchObject({
      data: { code: 'FORBIDDEN' },
    });
  });
});
