import {
  type CreateTRPCClientOptions,
  TRPCClientError,
  type TRPCRequestOptions,
  TRPCUntypedClient,
} from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { CallDeadlines, type Expiring } from './call-deadlines';
import { isConnectionLoss, isRetryable, RequestTimeoutError } from './call-errors';
import type { ClientClosedError } from './link/errors';
import type { LinkOperation, OperationConsumer, OperationRequest } from './link/link-operation';
import type { TetherLink } from './link/tether-link';

export interface DirectCallOptions {
  /** A call fails with `RequestTimeoutError` after this long, queued time included. */
  timeoutMs: number;
  /** Attempts for what is safe to send again (a query, a keyed mutation) when its connection dropped. */
  attempts: number;
  /** The connection's state in words, for the timeout's message. */
  describeConnection(): string;
}

/**
 * One query or mutation, straight on the link: a promise, a deadline, and a
 * new attempt when its connection dropped and it is safe to send again. It
 * does what tRPC's client does through its links (`timeoutLink`,
 * `idempotentRetryLink`) without an observable chain per call.
 */
class PendingCall implements OperationConsumer, Expiring {
  #operation: LinkOperation | null = null;
  #attempts = 0;
  #settled = false;

  constructor(
    private readonly link: TetherLink<AnyTRPCRouter>,
    private readonly request: OperationRequest,
    private readonly options: DirectCallOptions,
    private readonly deadlines: CallDeadlines<PendingCall>,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: TRPCClientError<AnyTRPCRouter>) => void,
  ) {
    deadlines.add(this);
    if (signal?.aborted) {
      this.#abort();
      return;
    }
    signal?.addEventListener('abort', this, { once: true });
    this.#attempt();
  }

  /** The abort signal's listener (an object, so no closure per call). */
  handleEvent(): void {
    this.#abort();
  }

  started(): void {}

  suspended(): void {}

  data(value: unknown): void {
    if (this.#settled) return;
    this.#settle();
    this.resolve(value);
  }

  complete(): void {
    // The answer came with `data`; a call that completes without one was cancelled, and its caller already heard.
  }

  error(error: TRPCClientError<AnyTRPCRouter>): void {
    if (this.#settled) return;
    this.#operation = null;
    if (this.#attempts < this.options.attempts && isConnectionLoss(error) && isRetryable(this.request)) {
      this.#attempt();
      return;
    }
    this.#settle();
    this.reject(error);
  }

  closed(error: ClientClosedError): void {
    this.error(TRPCClientError.from(error));
  }

  #attempt(): void {
    this.#attempts += 1;
    try {
      this.#operation = this.link.start(this.request, this);
    } catch (cause) {
      // The input would not serialize (a getter that throws, say): a client error, like any other.
      this.#operation = null;
      this.#settle();
      this.reject(TRPCClientError.from(cause instanceof Error ? cause : new Error(String(cause))));
    }
  }

  /** Its time ran out (queued time and earlier attempts included). */
  expire(): void {
    if (this.#settled) return;
    const error = new RequestTimeoutError(this.request.path, this.options.timeoutMs, this.options.describeConnection());
    this.#operation?.cancel();
    this.#settle();
    this.reject(TRPCClientError.from(error));
  }

  #abort(): void {
    this.#operation?.cancel();
    this.#settle();
    this.reject(TRPCClientError.from(this.signal?.reason ?? new Error('aborted')));
  }

  #settle(): void {
    this.#settled = true;
    this.#operation = null;
    this.deadlines.delete(this);
    this.signal?.removeEventListener('abort', this);
  }
}

/**
 * tRPC's untyped client, with queries and mutations sent straight on the
 * Tether link (`PendingCall`); subscriptions, and everything else tRPC's
 * helpers expect of a client (`@trpc/tanstack-react-query` included), are
 * tRPC's own, through `links`.
 */
export class TetherUntypedClient extends TRPCUntypedClient<AnyTRPCRouter> {
  /** Every call's deadline, on one timer. */
  readonly #deadlines: CallDeadlines<PendingCall>;

  constructor(
    options: CreateTRPCClientOptions<AnyTRPCRouter>,
    private readonly tether: TetherLink<AnyTRPCRouter>,
    private readonly calls: DirectCallOptions,
  ) {
    super(options);
    this.#deadlines = new CallDeadlines(calls.timeoutMs);
  }

  /** The client is gone: no call's deadline keeps a timer. */
  dispose(): void {
    this.#deadlines.dispose();
  }

  override query(path: string, input?: unknown, opts?: TRPCRequestOptions): Promise<unknown> {
    return this.#call({ type: 'query', path, input }, opts);
  }

  override mutation(path: string, input?: unknown, opts?: TRPCRequestOptions): Promise<unknown> {
    return this.#call({ type: 'mutation', path, input }, opts);
  }

  #call(request: OperationRequest, opts: TRPCRequestOptions | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      new PendingCall(this.tether, request, this.calls, this.#deadlines, opts?.signal ?? undefined, resolve, reject);
    });
  }
}
