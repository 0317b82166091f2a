import type { CloseCode } from '@tether/protocol';
import type { AnyTRPCRouter, TRPCError } from '@trpc/server';
import type { Limits } from '../limits';
import type { TransportMetrics } from '../observability/metrics';
import type { SessionRegistry } from './registry';
import type { Session } from './session';

/** What every transport adapter gets from the session core. */
export interface TransportDeps {
  /** The app's router with `connection.*` merged in. */
  router: AnyTRPCRouter;
  sessions: SessionRegistry<unknown>;
  limits: Limits;
  metrics: TransportMetrics;
  /** Logs a failed call (unexpected errors with their stack, store outages throttled). */
  onCallError(error: TRPCError, path: string | undefined, type: string): void;
  /** Logs a limit that ended or refused a connection. */
  onLimit(session: Session<unknown> | null, code: CloseCode): void;
}
