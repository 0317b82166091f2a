import type { AppRouter } from '@tether/protocol';
import { getUntypedClient, TRPCUntypedClient } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { createTypedProxy } from './typed-proxy';

/** An untyped client whose calls are recorded instead of sent: the proxy's job ends where the untyped client begins. */
function recordingClient() {
  const calls: unknown[][] = [];
  const client = new TRPCUntypedClient<AnyTRPCRouter>({ links: [] });
  client.query = async (...args: unknown[]) => calls.push(['query', ...args]);
  client.mutation = async (...args: unknown[]) => calls.push(['mutation', ...args]);
  client.subscription = ((...args: unknown[]) => {
    calls.push(['subscription', ...args]);
    return { unsubscribe() {} };
  }) as TRPCUntypedClient<AnyTRPCRouter>['subscription'];
  return { client, calls, proxy: createTypedProxy<AppRouter>(client) };
}

describe('the typed client proxy', () => {
  it('calls the untyped client by path and procedure type, with the input and options', async () => {
    const { proxy, calls } = recordingClient();
    const signal = new AbortController().signal;
    await proxy.rooms.list.query();
    await proxy.messages.send.mutate({ roomId: 'r', body: 'hi', idempotencyKey: 'k' }, { signal });
    proxy.rooms.events.subscribe({ roomId: 'r' }, {});
    expect(calls).toEqual([
      ['query', 'rooms.list', undefined, undefined],
      ['mutation', 'messages.send', { roomId: 'r', body: 'hi', idempotencyKey: 'k' }, { signal }],
      ['subscription', 'rooms.events', { roomId: 'r' }, {}],
    ]);
  });

  it('keeps one proxy per path, so a property read builds nothing', () => {
    const { proxy } = recordingClient();
    expect(proxy.rooms.list).toBe(proxy.rooms.list);
    expect(proxy.rooms).not.toBe(proxy.messages);
  });

  it('hands its untyped client to tRPC helpers, and is not a thenable', async () => {
    const { proxy, client } = recordingClient();
    expect(getUntypedClient(proxy)).toBe(client);
    expect((proxy.rooms as unknown as { then?: unknown }).then).toBeUndefined();
    // Awaiting it would call `then` if it were one, and never settle.
    await expect(Promise.resolve(proxy.rooms)).resolves.toBe(proxy.rooms);
  });

  it('answers `call` and `apply` as the function they are read from, as tRPC does', async () => {
    const { proxy, calls } = recordingClient();
    await proxy.rooms.members.query.call(null, { roomId: 'a' });
    await proxy.rooms.members.query.apply(null, [{ roomId: 'b' }]);
    expect(calls).toEqual([
      ['query', 'rooms.members', { roomId: 'a' }, undefined],
      ['query', 'rooms.members', { roomId: 'b' }, undefined],
    ]);
  });

  it('says how to call a procedure when a path is called without one', () => {
    const { proxy } = recordingClient();
    const bare = proxy.rooms.list as unknown as () => unknown;
    expect(() => bare()).toThrow('rooms.list: call a procedure with .query, .mutate or .subscribe');
  });
});
