import type { AppRouter, Message, RouterInputs, RouterOutputs } from '@tether/protocol';
import type { TRPCClient } from '@trpc/client';
import { describe, expectTypeOf, it } from 'vitest';
import type { TetherClient } from '../src/index';

/**
 * Type-level contract tests: each `@ts-expect-error` must stay an error, so a
 * schema change that would break consumers at run time breaks `pnpm typecheck`.
 * The function is never called; only the compiler reads it.
 */
function consumerMisuses(client: TetherClient) {
  // @ts-expect-error unknown procedure
  client.trpc.rooms.destroy.mutate({ roomId: 'x' });
  // @ts-expect-error wrong input type: body must be a string
  client.trpc.messages.send.mutate({ roomId: 'x', body: 42, idempotencyKey: 'k-12345678' });
  // @ts-expect-error missing idempotencyKey
  client.trpc.messages.send.mutate({ roomId: 'x', body: 'hi' });
  // @ts-expect-error visibility is 'public' | 'private'
  client.trpc.rooms.create.mutate({ name: 'general', visibility: 'secret' });
  // @ts-expect-error a query is not a mutation
  client.trpc.rooms.list.mutate();
}

describe('the contract as consumers see it', () => {
  it('types inputs and outputs end to end', () => {
    expectTypeOf(consumerMisuses).toBeFunction();
    expectTypeOf<RouterOutputs['messages']['send']>().toEqualTypeOf<Message>();
    expectTypeOf<RouterOutputs['messages']['send']['createdAt']>().toEqualTypeOf<Date>();
    expectTypeOf<RouterInputs['rooms']['create']['visibility']>().toEqualTypeOf<'public' | 'private' | undefined>();
    expectTypeOf<TetherClient['trpc']>().toEqualTypeOf<TRPCClient<AppRouter>>();
  });
});
