import { type AnyTRPCRouter, initTRPC, type TRPCBuiltRouter } from '@trpc/server';
import superjson from 'superjson';
import { z } from 'zod';
import { formatError } from './errors';
import type { SessionContext } from './session';
import { storableText } from './storable-text';

export const renewInputSchema = z.object({
  accessToken: storableText('accessToken')
    .min(1, 'accessToken is required')
    .describe('a fresh access token for the principal already signed in'),
});
export type RenewInput = z.infer<typeof renewInputSchema>;

export const renewResultSchema = z.object({ expiresAt: z.date() });
export type RenewResult = z.infer<typeof renewResultSchema>;

const count = z.number().int().nonnegative();

export const connectionHealthSchema = z.object({
  status: z.literal('ok'),
  version: z.string().describe('server version'),
  protocolVersion: z.number().int(),
  uptimeSeconds: z.number().nonnegative(),
  connections: count.describe('open WebSocket connections and SSE streams on this server process'),
  subscriptions: count.describe('running subscriptions on this server process, over every transport'),
  sendBufferBytes: count.describe('bytes queued for clients and not yet sent, over all connections of this process'),
});
export type ConnectionHealth = z.infer<typeof connectionHealthSchema>;

const t = initTRPC
  .context<SessionContext>()
  .create({ transformer: superjson, isDev: false, errorFormatter: formatError });

/**
 * The generic `connection` router every Tether server serves beside its app's
 * procedures: clients depend on it, never on an app's procedures.
 */
export const connectionRouter = t.router({
  /** Swaps the WebSocket connection's token for a fresh one without reconnecting. */
  renew: t.procedure
    .input(renewInputSchema)
    .output(renewResultSchema)
    .mutation(({ ctx, input }) => ctx.session.renew(input.accessToken)),
  health: t.procedure.output(connectionHealthSchema).query(({ ctx }) => ctx.session.health()),
  /** Does nothing and answers null: the cheapest round trip, for a client measuring its latency. */
  ping: t.procedure.query(() => null),
});

/** An app router with the `connection` router merged in: what a Tether server serves and a client is typed over. */
export type WithConnectionRouter<TRouter extends AnyTRPCRouter> = TRPCBuiltRouter<
  TRouter['_def']['_config']['$types'],
  TRouter['_def']['record'] & { connection: (typeof connectionRouter)['_def']['record'] }
>;

/** Any router a Tether client can talk to: whatever its procedures, it serves `connection.*`. */
// biome-ignore lint/suspicious/noExplicitAny: any app's root types (context, error shape) are acceptable here.
export type AnyTetherRouter = TRPCBuiltRouter<any, { connection: (typeof connectionRouter)['_def']['record'] }>;

/**
 * Merges the `connection` router into `app`. The merge keeps the app's
 * transformer and error formatter (tRPC refuses to merge routers whose
 * differ), so the app must be built with superjson and `formatError`.
 */
export function withConnectionRouter<TRouter extends AnyTRPCRouter>(app: TRouter): WithConnectionRouter<TRouter> {
  const { transformer, errorFormatter, isDev } = app._def._config;
  const merger = initTRPC.context<SessionContext>().create({ transformer, errorFormatter, isDev });
  return merger.mergeRouters(
    app,
    merger.router({ connection: connectionRouter }),
  ) as unknown as WithConnectionRouter<TRouter>;
}
