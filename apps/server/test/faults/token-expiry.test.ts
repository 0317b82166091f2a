import { randomUUID } from 'node:crypto';
import type { ConnectionStatus, TokenResult } from '@tether/client';
import { type AppRouter, type AuthSession, CloseCode } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { createTRPCClient, httpLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { clientFactory } from '../helpers/test-server';

const TOKEN_TTL_SECONDS = 2;

let server: ServerProcess;
const clients = clientFactory(() => server.wsUrl);

beforeAll(async () => {
  server = await spawnServer({ env: { TETHER_ACCESS_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS) } });
});
afterEach(() => clients.disposeAll());
afterAll(() => killAllServers());

/**
 * What an application keeps: the session, refreshed over HTTP (a refresh
 * must not wait on the socket whose token it is renewing).
 */
function sessionKeeper(session: AuthSession, options: { withExpiry: boolean; canRefresh: boolean }) {
  const http = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${server.url}/trpc`, transformer: superjson })],
  });
  let current = session;
  let refreshes = 0;
  const refreshed: Array<{ count: number; resolve: () => void }> = [];
  const asResult = (s: AuthSession): TokenResult =>
    options.withExpiry ? { token: s.accessToken, expiresAt: s.accessTokenExpiresAt } : s.accessToken;
  return {
    refreshes: () => refreshes,
    /** Resolves once `count` refreshes have happened. */
    untilRefreshes: (count: number) =>
      new Promise<void>((resolve) => (refreshes >= count ? resolve() : refreshed.push({ count, resolve }))),
    async getToken({ forceRefresh }: { forceRefresh: boolean }): Promise<TokenResult> {
      if (!forceRefresh) return asResult(current);
      if (!options.canRefresh) return null;
      current = await http.auth.refresh.mutate({ refreshToken: current.refreshToken });
      refreshes += 1;
      for (const waiter of refreshed.filter((w) => refreshes >= w.count)) waiter.resolve();
      return asResult(current);
    },
  };
}

async function signUpAndCreateRoom() {
  const anonymous = clients.connect();
  const session = await anonymous.trpc.auth.signUp.mutate({
    username: `t-${randomUUID().slice(0, 8)}`,
    password: 'a long password',
  });
  const owner = clients.connect({ getToken: () => session.accessToken });
  const room = await owner.trpc.rooms.create.mutate({ name: `tok-${randomUUID().slice(0, 8)}`, visibility: 'public' });
  return { session, roomId: room.id };
}

describe('access token expiry on an open socket', () => {
  it('renewed before expiry: the socket stays open across several token lifetimes', async () => {
    const { session, roomId } = await signUpAndCreateRoom();
    const keeper = sessionKeeper(session, { withExpiry: true, canRefresh: true });
    const client = clients.connect({ getToken: keeper.getToken, renewBeforeMs: 1_000, clientName: 'renewing-client' });
    const statuses: ConnectionStatus[] = [];
    client.status.subscribe((status) => statuses.push(status));
    const observer = observeRoom(client, roomId, '0');
    await observer.live;

    // Three renewals take longer than the first token's 2 s life: without renewal the socket would be closed.
    await keeper.untilRefreshes(3);
    const sent = await client.trpc.messages.send.mutate({
      roomId,
      body: 'still here',
      idempotencyKey: `k-${randomUUID()}`,
    });
    await observer.untilSeq(sent.seq);
    expect(statuses.filter((s) => s.state !== 'connected')).toEqual([]);
    const closes = server.logs.filter((line) => line.event === 'session.close' && line.client === 'renewing-client');
    expect(closes).toEqual([]);
  });

  it('not renewed: closed 4401 at expiry, then the client refreshes, reconnects and resumes', async () => {
    const { session, roomId } = await signUpAndCreateRoom();
    const keeper = sessionKeeper(session, { withExpiry: false, canRefresh: true });
    const client = clients.connect({ getToken: keeper.getToken });
    const observer = observeRoom(client, roomId, '0');
    await observer.live;

    const dropped = await client.status.waitFor('reconnecting');
    expect(dropped.lastCloseCode).toBe(CloseCode.Unauthorized);
    // Sending needs a valid token on the new connection: it can only succeed after the refresh.
    const sent = await client.trpc.messages.send.mutate({
      roomId,
      body: 'after refresh',
      idempotencyKey: `k-${randomUUID()}`,
    });
    expect(keeper.refreshes()).toBeGreaterThanOrEqual(1);
    await observer.untilSeq(sent.seq);
    expect(gapsAndDuplicates(observer.events)).toEqual({ gaps: [], duplicates: [] });
    expect(observer.errors).toEqual([]);
  });

  it('not renewed and no fresh token to be had: the client stops with reason "unauthorized"', async () => {
    const { session } = await signUpAndCreateRoom();
    const keeper = sessionKeeper(session, { withExpiry: false, canRefresh: false });
    const client = clients.connect({ getToken: keeper.getToken });
    await client.status.waitFor('connected');
    const closed = new Promise<ConnectionStatus>((resolve) =>
      client.status.subscribe((status) => status.state === 'closed' && resolve(status)),
    );
    expect(await closed).toMatchObject({
      state: 'closed',
      reason: 'unauthorized',
      lastCloseCode: CloseCode.Unauthorized,
    });
  });
});
