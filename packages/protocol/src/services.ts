import type { TrackedEnvelope } from '@trpc/server';
import type { IdempotencyScope, Principal, UserPrincipal } from './context';
import type { AuthSession, Credentials, RefreshInput } from './schemas/auth';
import type { User } from './schemas/common';
import type { RoomEventsQuery, RoomStreamItem } from './schemas/events';
import type {
  DeleteMessageInput,
  EditMessageInput,
  ListMessagesInput,
  Message,
  MessagePage,
  SendMessageInput,
} from './schemas/messages';
import type { PresenceUpdate, TypingInput } from './schemas/presence';
import type {
  CreateRoomInput,
  FindRoomInput,
  InviteInput,
  Member,
  Room,
  RoomPage,
  RoomPageInput,
  RoomRefInput,
} from './schemas/rooms';
import type { CreatedToken, CreateTokenInput, ServiceToken } from './schemas/tokens';

/**
 * What a server implements to serve the contract. The router in this package
 * calls these after validating input and authentication, so implementations
 * receive parsed input and a known principal. Failures are thrown as `TRPCError`.
 * Mutations that take an `idempotencyKey` also receive its scope (`once`, null
 * without a key): applied at most once per scope, a repeat answered with the first result.
 */
/** What a subscription's implementation gets: its signal, and a way to end it when an authority ends. */
export interface StreamScope {
  signal: AbortSignal;
  /** Ends the stream with FORBIDDEN `message` when `key` is revoked (say, when its subscriber leaves a private room). */
  endOnRevoke(key: string, message: string): void;
}

/** Who is knocking, for calls made before there is a principal (sign-up, sign-in): limits go by address. */
export interface Caller {
  /** The client's address (the load balancer's `X-Forwarded-For` hop where it is trusted). */
  address: string;
}

export interface Services {
  auth: {
    signUp(input: Credentials, caller: Caller): Promise<AuthSession>;
    signIn(input: Credentials, caller: Caller): Promise<AuthSession>;
    refresh(input: RefreshInput): Promise<AuthSession>;
    signOut(input: RefreshInput): Promise<void>;
    me(principal: Principal): Promise<User>;
  };
  rooms: {
    create(principal: Principal, input: CreateRoomInput, once: IdempotencyScope | null): Promise<Room>;
    list(principal: Principal, input: RoomPageInput): Promise<RoomPage>;
    directory(principal: Principal, input: RoomPageInput): Promise<RoomPage>;
    get(principal: Principal, input: RoomRefInput): Promise<Room>;
    find(principal: Principal, input: FindRoomInput): Promise<Room>;
    join(principal: Principal, input: RoomRefInput): Promise<Room>;
    leave(principal: Principal, input: RoomRefInput): Promise<void>;
    invite(principal: Principal, input: InviteInput): Promise<Member>;
    members(principal: Principal, input: RoomRefInput): Promise<Member[]>;
    /**
     * Checks access (rejecting before the subscription starts), then returns a stream that
     * replays `seq > afterSeq`, yields one `synced` marker, and goes live: each event once
     * and in seq order, tracked by its seq, until it is stopped (pushed: its run's stop;
     * iterated: its iterator's return).
     */
    events(
      principal: Principal,
      query: RoomEventsQuery,
      scope: StreamScope,
    ): Promise<AsyncIterable<TrackedEnvelope<RoomStreamItem>>>;
    /**
     * Marks the principal present while the stream runs; yields a snapshot, then
     * what changed (a snapshot again after the subscriber lagged).
     */
    presence(principal: Principal, input: RoomRefInput, scope: StreamScope): Promise<AsyncIterable<PresenceUpdate>>;
    /** The principal is typing: shown to others for a few seconds, or until they send. */
    typing(principal: Principal, input: TypingInput): Promise<void>;
  };
  messages: {
    send(principal: Principal, input: SendMessageInput, once: IdempotencyScope | null): Promise<Message>;
    edit(principal: Principal, input: EditMessageInput, once: IdempotencyScope | null): Promise<Message>;
    delete(principal: Principal, input: DeleteMessageInput, once: IdempotencyScope | null): Promise<void>;
    list(principal: Principal, input: ListMessagesInput): Promise<MessagePage>;
  };
  /** Service tokens: admins only (the service throws FORBIDDEN for others). */
  tokens: {
    create(principal: UserPrincipal, input: CreateTokenInput): Promise<CreatedToken>;
    list(principal: UserPrincipal): Promise<ServiceToken[]>;
    revoke(principal: UserPrincipal, input: { id: string }): Promise<void>;
  };
}
