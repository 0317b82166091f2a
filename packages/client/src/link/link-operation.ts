import { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import type { TRPCResponseMessage } from '@trpc/server/rpc';
import superjson from 'superjson';
import type { Transport } from '../status';
import type { ClientClosedError } from './errors';
import { ConnectionLostError } from './errors';
import type { HttpTransport } from './http-transport';
import type { CarriedOperation, OperationSink } from './operation-sink';
import type { RequestCallbacks, Requests } from './requests';

const IN_PLACE = { inPlace: true } as const;
/**
 * No input, as superjson reads it: `{}` deserializes to `undefined`, which is
 * all that superjson's own `{ meta: { values: ["undefined"] } }` says, without
 * an annotation for the server to walk (a twentieth of a no-input call's round trip).
 */
const NO_INPUT = Object.freeze({});

/** What is asked: a query, a mutation or a subscription, by path, with its input (not yet serialized). */
export interface OperationRequest {
  type: 'query' | 'mutation' | 'subscription';
  path: string;
  input: unknown;
}

/** Who asked (the link's observer for tRPC's client, or a pending call): what a transport says, passed on once per change, and the link's end. */
export interface OperationConsumer extends OperationSink {
  /** The link ended for good. */
  closed(error: ClientClosedError): void;
}

/** The transports an operation may be on, and which one is in use. */
export interface Carriers {
  readonly transport: Transport;
  readonly requests: Requests;
  readonly http: HttpTransport | null;
  readonly operations: Set<LinkOperation>;
}

/**
 * One operation of the client, on whichever transport is in use; it moves
 * when the transport changes, a subscription from the id of the last item
 * its consumer received. It is the WebSocket requests' callbacks and the HTTP
 * transport's sink itself, so an operation costs one object, not a closure per event.
 */
export class LinkOperation implements OperationSink, RequestCallbacks {
  /** The WebSocket request's id, or null when HTTP carries it (or nothing does). */
  #requestId: number | null = null;
  #http: CarriedOperation | null = null;
  #live = false;
  #lastEventId: string | undefined;

  constructor(
    private readonly carriers: Carriers,
    private readonly request: OperationRequest,
    private readonly consumer: OperationConsumer,
  ) {
    const input = request.input as { lastEventId?: unknown } | undefined;
    if (typeof input?.lastEventId === 'string') this.#lastEventId = input.lastEventId;
    // Carried first: an input that will not serialize throws here and leaves nothing behind.
    this.#carry();
    carriers.operations.add(this);
  }

  /** The transport changed: moves unless it cannot (a call awaiting its answer finishes where it is). */
  move(): void {
    if (this.#requestId !== null) {
      if (this.carriers.requests.awaitingAnswer(this.#requestId)) return;
      this.carriers.requests.cancel(this.#requestId);
      this.#requestId = null;
    } else if (this.#http?.withdraw()) {
      this.#http = null;
    } else return;
    this.#carry();
  }

  cancel(): void {
    this.carriers.operations.delete(this);
    if (this.#requestId !== null) this.carriers.requests.cancel(this.#requestId);
    this.#http?.cancel();
    this.#requestId = null;
    this.#http = null;
  }

  closed(error: ClientClosedError): void {
    this.cancel();
    this.consumer.closed(error);
  }

  started(): void {
    if (this.#live) return;
    this.#live = true;
    this.consumer.started();
  }

  data(value: unknown, id: string | undefined): void {
    if (id !== undefined) this.#lastEventId = id;
    this.consumer.data(value, id);
  }

  suspended(): void {
    if (!this.#live) return;
    this.#live = false;
    this.consumer.suspended();
  }

  error(error: TRPCClientError<AnyTRPCRouter>): void {
    this.carriers.operations.delete(this);
    this.consumer.error(error);
  }

  complete(): void {
    this.carriers.operations.delete(this);
    this.consumer.complete();
  }

  /**
   * A WebSocket message for this operation, as the server sent it: superjson
   * undone here, in place (the message was parsed for this operation alone,
   * so superjson's defensive deep copy would only cost).
   */
  message(message: TRPCResponseMessage): void {
    if ('error' in message) {
      this.error(TRPCClientError.from({ error: superjson.deserialize(message.error as never, IN_PLACE) }));
      return;
    }
    const { result } = message;
    if (result.type === 'started') this.started();
    else if (result.type === 'data' || result.type === undefined) {
      const value = superjson.deserialize(result.data as never, IN_PLACE);
      this.data(value, result.id === undefined ? undefined : String(result.id));
    }
  }

  lost(): void {
    this.error(TRPCClientError.from(new ConnectionLostError(this.request.path)));
  }

  #carry(): void {
    const { carriers, request } = this;
    const { http } = carriers;
    if (carriers.transport === 'http' && http) {
      this.#http =
        request.type === 'subscription' ? http.subscribe(request, this.#lastEventId, this) : http.call(request, this);
      return;
    }
    const input = request.input === undefined ? NO_INPUT : superjson.serialize(request.input);
    this.#requestId = carriers.requests.start(request.type, request.path, input, this.#lastEventId, this);
  }
}
