import type { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

/** What a transport tells the link about one operation, already decoded (superjson undone). */
export interface OperationSink {
  /** A subscription is live (again): passed on once per stretch of being live. */
  started(): void;
  /** A call's answer, or a subscription's item (`id`: its tracked id, the resume point). */
  data(value: unknown, id: string | undefined): void;
  /** A subscription's stream went away: it resumes, from where it was, when one is back. */
  suspended(): void;
  /** The operation failed: nothing more comes. */
  error(error: TRPCClientError<AnyTRPCRouter>): void;
  /** Nothing more comes. */
  complete(): void;
}

/** An operation as one transport carries it. */
export interface CarriedOperation {
  /** Takes it off this transport so another can carry it; false when it cannot move (a call awaiting its answer). */
  withdraw(): boolean;
  /** Forgets it: a live subscription is stopped on the server, an answer still owed is ignored. */
  cancel(): void;
}
