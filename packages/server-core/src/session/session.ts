import { setTimeout as sleep } from 'node:timers/promises';
import type { CloseCode, ConnectionHealth, SessionControls, Transport } from '@tether/protocol';
import { TRPCError } from '@trpc/server';
import type { Credential } from './credential';

/** What a transport gives the session core for one connection. */
export interface SessionPort {
  /** Ends the connection: a WebSocket closes with `code`; an SSE stream sends the equivalent typed error, then ends. */
  end(code: CloseCode, reason: string): void;
  /** Bytes queued for the peer and not yet sent. */
  readonly bufferedBytes: number;
  /** Bytes given to the connection since it opened: what a replay is charged. */
  readonly bytesSent: number;
  /** Resolves once little is left queued for the peer (`REPLAY_LOW_WATER_BYTES`), or the connection has gone. */
  drained(): Promise<void>;
  /** Sends a heartbeat (WebSocket `PING`, an SSE ping event). */
  ping(): void;
  /** Cuts a peer that stopped answering pings. Absent where peers never answer (SSE). */
  terminate?(): void;
}

/** What the session core does for a session's controls; implemented by the registry. */
export interface SessionOwner<TPrincipal> {
  renew(session: Session<TPrincipal>, accessToken: string): Promise<{ expiresAt: Date }>;
  health(): ConnectionHealth;
  endOnRevoke(subscription: Subscription, key: string, message: string): void;
  /** Charges `bytes` sent by a replay to the session's principal's budget; how long to wait before the next read. */
  chargeReplay(session: Session<TPrincipal>, bytes: number): number;
  /**
   * Waits until the session's principal reads no other replay page; resolves with the end of this one's
   * turn, or with null if `signal` aborted first. Anonymous sessions take turns by address.
   */
  replayTurn(session: Session<TPrincipal>, signal: AbortSignal): Promise<(() => void) | null>;
}

/** What a session keeps of its credential: times as epoch milliseconds (a Date costs ~100 bytes a session). */
export interface HeldCredential<TPrincipal> {
  principal: TPrincipal;
  principalKey: string;
  expiresAt: number;
  recheckAt: number | null;
  revocationKeys: readonly string[];
}

/** The context's principal is written by the registry when the credential changes (sign-in, renew). */
export interface MutableContext<TPrincipal> {
  principal: TPrincipal | null;
  readonly session: SessionControls;
}

/** What runs a subscription's items to its client. */
export interface SubscriptionDelivery {
  endedFromOutside(): void;
}

/** One running subscription: ended by its client, by its procedure, or from outside (a revocation, the session's end). */
export class Subscription {
  readonly controller = new AbortController();
  /** Why it was ended from outside, told to the client as its error; null for a plain stop. */
  failure: TRPCError | null = null;
  /** What it was bound to (`endOnRevoke`): the key, and the message its end carries. */
  revocations: Array<{ key: string; message: string }> | null = null;
  /** Told once, after the abort, when it ends from outside (no listener on the signal: they cost). */
  delivery: SubscriptionDelivery | null = null;

  constructor(
    readonly session: Session<unknown>,
    readonly id: string | number,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  end(failure: TRPCError | null = null): void {
    this.failure ??= failure;
    if (this.controller.signal.aborted) return;
    this.controller.abort();
    this.delivery?.endedFromOutside();
  }
}

/**
 * One client connection, whatever its transport: its credential, its
 * subscriptions and its liveness. It is also `ctx.session` for the procedures it calls.
 */
export class Session<TPrincipal> implements SessionControls {
  credential: HeldCredential<TPrincipal> | null = null;
  /** Kept to verify a long-lived token again at its `recheckAt`. */
  token: string | null = null;
  readonly subscriptions = new Map<string | number, Subscription>();
  readonly openedAt = performance.now();
  lastSeenAt = this.openedAt;
  /** When the unanswered heartbeat went out; 0 when none is outstanding. */
  pingSentAt = 0;
  /** A WebSocket has sent valid connectionParams; SSE and HTTP sessions start ready. */
  ready: boolean;
  ended = false;
  /** The core has told the transport to end it (expiry, revocation); its close is on the way. */
  ending = false;
  /** Re-verification of a long-lived token in flight. */
  rechecking = false;
  /** The client's name and version from its handshake, for logs. */
  clientName: string | undefined = undefined;

  constructor(
    private readonly owner: SessionOwner<TPrincipal>,
    readonly transport: Transport,
    readonly address: string,
    readonly port: SessionPort,
  ) {
    this.ready = transport !== 'websocket';
  }

  /**
   * What every procedure receives: plain data properties, because tRPC's
   * middleware spreads the context on every call (a getter there costs a third
   * of a small call's time). A renewed token counts from the next call on.
   */
  readonly context: MutableContext<TPrincipal> = { principal: null, session: this };

  /** Makes `credential` the session's, and its principal the one the next call sees. */
  setCredential(credential: Credential<TPrincipal>): void {
    const { principal, principalKey, expiresAt, recheckAt, revocationKeys } = credential;
    this.credential = {
      principal,
      principalKey,
      expiresAt: expiresAt.getTime(),
      recheckAt: recheckAt?.getTime() ?? null,
      revocationKeys,
    };
    this.context.principal = principal;
  }

  renew(accessToken: string): Promise<{ expiresAt: Date }> {
    if (this.transport !== 'websocket') {
      return Promise.reject(
        new TRPCError({
          code: 'BAD_REQUEST',
          message: 'renew applies to WebSocket connections; over HTTP send the token with each request',
        }),
      );
    }
    return this.owner.renew(this, accessToken);
  }

  health(): ConnectionHealth {
    return this.owner.health();
  }

  endOnRevoke(signal: AbortSignal, key: string, message: string): void {
    for (const subscription of this.subscriptions.values()) {
      if (subscription.signal === signal) {
        this.owner.endOnRevoke(subscription, key, message);
        return;
      }
    }
  }

  /**
   * Waits until this session may read a replay's next page: this connection
   * drained, its principal's other page reads over (one at a time, over all
   * its connections) and its budget out of debt, or `signal` aborted (the
   * subscription ended: nothing holds it). Resolves with the `done` of
   * PushSink.paced, which charges what the connection was sent meanwhile. A
   * replay loop slows the looper, not the others.
   */
  async paceReplay(signal: AbortSignal): Promise<() => void> {
    // Drained before the turn is taken: a connection that stops reading holds up only its own replays.
    await unlessAborted(signal, this.port.drained());
    const endTurn = await this.owner.replayTurn(this, signal);
    if (!endTurn) return () => {};
    // Judged within the turn: every earlier page of the principal's has been charged.
    const waitMs = this.owner.chargeReplay(this, 0);
    if (waitMs > 0) await sleep(waitMs, undefined, { signal }).catch(() => {});
    const sentBefore = this.port.bytesSent;
    let over = false;
    return () => {
      if (over) return;
      over = true;
      this.owner.chargeReplay(this, this.port.bytesSent - sentBefore);
      endTurn();
    };
  }
}

/** Resolves when `waited` settles or `signal` aborts, whichever comes first. */
function unlessAborted(signal: AbortSignal, waited: Promise<void>): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done);
    waited.then(done, done);
  });
}
