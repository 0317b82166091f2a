import { CloseCode, type ConnectionHealth, PROTOCOL_VERSION, type Transport } from '@tether/protocol';
import { TRPCError } from '@trpc/server';
import type { Heartbeat, Limits } from '../limits';
import type { Logger } from '../logger';
import type { TransportMetrics } from '../observability/metrics';
import { type Authenticate, type Credential, unauthorized } from './credential';
import { Session, type SessionOwner, type SessionPort, Subscription } from './session';
import type { PrincipalLoad, SharedPrincipalLoads } from './shared-principal-loads';
import { BucketsByKey } from './token-bucket';

/** Why a connection was not admitted. */
export interface Refusal {
  code: CloseCode;
  reason: string;
  limit: string;
}

export interface SessionRegistryOptions<TPrincipal> {
  authenticate: Authenticate<TPrincipal>;
  limits: Limits;
  heartbeat: Heartbeat;
  metrics: TransportMetrics;
  logger: Logger;
  version: string;
  /** Each principal's counts on the other processes, where there are others: the per-principal caps hold over all of them. */
  sharedLoads?: SharedPrincipalLoads;
}

/** How long a revoked key is remembered: longer than any verification of a token takes (the store times out sooner). */
const RECENT_REVOCATION_MS = 60_000;
const BUFFERED_SUM_REUSE_MS = 250;

const addLoads = (here: PrincipalLoad | undefined, elsewhere: PrincipalLoad | undefined): PrincipalLoad => ({
  connections: (here?.connections ?? 0) + (elsewhere?.connections ?? 0),
  subscriptions: (here?.subscriptions ?? 0) + (elsewhere?.subscriptions ?? 0),
});
const increment = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

/**
 * Every session of this process, whatever its transport, and what they hold
 * together: connections per address and per principal, subscriptions per
 * principal, who is bound to which revocation key. One clock (`sweep`)
 * serves heartbeats, handshake timeouts and token expiry for all of them, so
 * an idle connection costs no timer.
 */
export class SessionRegistry<TPrincipal> implements SessionOwner<TPrincipal> {
  readonly sessions = new Set<Session<TPrincipal>>();
  subscriptionCount = 0;
  readonly #perAddress = new Map<string, number>();
  readonly #perPrincipal = new Map<string, PrincipalLoad>();
  /** Replay budgets by principal (by address for anonymous sessions), in bytes; full ones are forgotten at the sweep. */
  readonly #replayBudgets: BucketsByKey;
  /**
   * By principal, while one of its replay pages is under way, the replays waiting for their turn: each
   * principal reads one page at a time, so that however many replays it loops, the store has at most one of
   * its pages ahead of anyone else's read. At most one waiter per subscription, and an aborted one leaves.
   */
  readonly #replayTurns = new Map<string, Array<() => void>>();
  readonly #revocable = new Map<string, Set<Session<TPrincipal> | Subscription>>();
  /** Keys revoked lately, with when: a sign-in whose verification was under way when its key was revoked must not adopt it. */
  readonly #recentlyRevoked = new Map<string, number>();
  readonly #options: SessionRegistryOptions<TPrincipal>;
  readonly #startedAt = performance.now();
  #buffered = 0;
  #bufferedAt = Number.NEGATIVE_INFINITY;

  constructor(options: SessionRegistryOptions<TPrincipal>) {
    this.#options = options;
    const { replayBytesPerSecond, replayByteBurst } = options.limits;
    this.#replayBudgets = new BucketsByKey({ ratePerSecond: replayBytesPerSecond, burst: replayByteBurst });
  }

  /** Admits a new connection from `address`, or says which limit refuses it. */
  open(transport: Transport, address: string, port: SessionPort): Session<TPrincipal> | Refusal {
    const { limits, metrics } = this.#options;
    if (this.sessions.size >= limits.maxConnections) {
      metrics.limitExceeded('connections');
      return {
        code: CloseCode.TryAgainLater,
        reason: 'server at its connection limit; retry later',
        limit: 'connections',
      };
    }
    if ((this.#perAddress.get(address) ?? 0) >= limits.maxConnectionsPerAddress) {
      metrics.limitExceeded('connections_per_address');
      return {
        code: CloseCode.TryAgainLater,
        reason: 'too many connections from your address; retry later',
        limit: 'connections_per_address',
      };
    }
    const session = new Session<TPrincipal>(this, transport, address, port);
    this.sessions.add(session);
    increment(this.#perAddress, address);
    metrics.connectionOpened(transport);
    this.#options.logger.info('session.open', { transport, address });
    return session;
  }

  /** Releases everything the session held and ends its subscriptions. Idempotent. */
  close(session: Session<TPrincipal>, code: number): void {
    if (session.ended) return;
    session.ended = true;
    for (const subscription of session.subscriptions.values()) {
      subscription.end();
      this.releaseSubscription(subscription);
    }
    this.sessions.delete(session);
    decrement(this.#perAddress, session.address);
    this.#release(session);
    this.#options.metrics.connectionClosed(session.transport, code);
    this.#options.logger.info('session.close', {
      transport: session.transport,
      address: session.address,
      client: session.clientName,
      code,
      durationMs: Math.round(performance.now() - session.openedAt),
    });
  }

  /**
   * Verifies `token` and makes it the session's credential. Throws the error a
   * caller should see: UNAUTHORIZED (or SERVICE_UNAVAILABLE when the store
   * behind the check failed), TOO_MANY_REQUESTS over the per-principal connection limit.
   */
  async signIn(session: Session<TPrincipal>, token: string): Promise<Credential<TPrincipal>> {
    const startedAt = performance.now();
    let credential: Credential<TPrincipal>;
    try {
      credential = await this.#options.authenticate(token);
    } catch (error) {
      throw unauthorized(error);
    }
    // A first sign-in counts what the principal holds on the other processes too; a renew adds nothing.
    const elsewhere =
      !session.credential && this.#options.sharedLoads
        ? await this.#options.sharedLoads.read(credential.principalKey)
        : undefined;
    if (this.#revokedSince(credential, startedAt)) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'this token was revoked: sign in again' });
    }
    if (session.ended) return credential;
    const current = session.credential;
    if (current && current.principalKey !== credential.principalKey) {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'renew needs a token of the principal already signed in' });
    }
    if (!current) {
      const load = addLoads(this.#perPrincipal.get(credential.principalKey), elsewhere);
      const { maxSubscriptionsPerPrincipal } = this.#options.limits;
      if (load.subscriptions + session.subscriptions.size > maxSubscriptionsPerPrincipal) {
        this.#options.metrics.limitExceeded('subscriptions_per_principal');
        throw new TRPCError({
          code: 'TOO_MANY_REQUESTS',
          message: `at most ${maxSubscriptionsPerPrincipal} subscriptions per user over all connections; stop one first`,
        });
      }
      if (load.connections >= this.#options.limits.maxConnectionsPerPrincipal) {
        this.#options.metrics.limitExceeded('connections_per_principal');
        throw new TRPCError({
          code: 'TOO_MANY_REQUESTS',
          message: `at most ${this.#options.limits.maxConnectionsPerPrincipal} connections per user; close one first`,
        });
      }
    }
    this.#adopt(session, credential, token);
    if (elsewhere) this.#options.sharedLoads?.admitted(credential.principalKey, elsewhere);
    return credential;
  }

  renew(session: Session<TPrincipal>, accessToken: string): Promise<{ expiresAt: Date }> {
    return this.signIn(session, accessToken).then(({ expiresAt }) => ({ expiresAt }));
  }

  /** Counts a new subscription under `id`, or throws TOO_MANY_REQUESTS over a limit. */
  admitSubscription(session: Session<TPrincipal>, id: string | number): Subscription {
    const { limits, metrics } = this.#options;
    if (session.subscriptions.size >= limits.maxSubscriptionsPerConnection) {
      metrics.limitExceeded('subscriptions_per_connection');
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `at most ${limits.maxSubscriptionsPerConnection} subscriptions per connection; stop one first`,
      });
    }
    const principalKey = session.credential?.principalKey;
    const load = principalKey ? this.#perPrincipal.get(principalKey) : undefined;
    const elsewhere = principalKey ? this.#options.sharedLoads?.cached(principalKey) : undefined;
    if (load && load.subscriptions + (elsewhere?.subscriptions ?? 0) >= limits.maxSubscriptionsPerPrincipal) {
      metrics.limitExceeded('subscriptions_per_principal');
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `at most ${limits.maxSubscriptionsPerPrincipal} subscriptions per user over all connections; stop one first`,
      });
    }
    const subscription = new Subscription(session as Session<unknown>, id);
    session.subscriptions.set(id, subscription);
    if (load) {
      load.subscriptions += 1;
      this.#loadChanged(principalKey, load);
    }
    this.subscriptionCount += 1;
    metrics.subscriptionStarted(session.transport);
    return subscription;
  }

  releaseSubscription(subscription: Subscription): void {
    const session = subscription.session as Session<TPrincipal>;
    if (session.subscriptions.get(subscription.id) !== subscription) return;
    session.subscriptions.delete(subscription.id);
    const principalKey = session.credential?.principalKey;
    const load = principalKey ? this.#perPrincipal.get(principalKey) : undefined;
    if (load) {
      load.subscriptions -= 1;
      this.#loadChanged(principalKey, load);
    }
    this.subscriptionCount -= 1;
    for (const { key } of subscription.revocations ?? []) this.#unbind(key, subscription);
    this.#options.metrics.subscriptionEnded(session.transport);
  }

  endOnRevoke(subscription: Subscription, key: string, message: string): void {
    if (subscription.signal.aborted) return;
    subscription.revocations ??= [];
    subscription.revocations.push({ key, message });
    this.#bind(key, subscription);
  }

  /** Ends, on this process, every session and subscription bound to `key`. */
  revokeLocally(key: string, message: string): void {
    this.#recentlyRevoked.set(key, performance.now());
    const bound = this.#revocable.get(key);
    if (!bound) return;
    this.#revocable.delete(key);
    for (const holder of bound) {
      if (holder instanceof Subscription) {
        const own = holder.revocations?.find((revocation) => revocation.key === key)?.message;
        // After the items already on their way: an event published just before the
        // revocation (a `member.left`, say) reaches the subscriber before its end does.
        setImmediate(() => holder.end(new TRPCError({ code: 'FORBIDDEN', message: own ?? message })));
      } else {
        try {
          this.#end(holder, CloseCode.Unauthorized, message);
        } catch {
          // One holder's transport failing to close must not spare the others.
        }
      }
    }
  }

  health(): ConnectionHealth {
    return {
      status: 'ok',
      version: this.#options.version,
      protocolVersion: PROTOCOL_VERSION,
      uptimeSeconds: Math.round((performance.now() - this.#startedAt) / 1000),
      connections: this.sessions.size,
      subscriptions: this.subscriptionCount,
      sendBufferBytes: this.sendBufferBytes,
    };
  }

  /**
   * Unsent bytes over all sessions. A walk over every session, and anyone may
   * ask for health: the sum is reused for a quarter second, so asking often costs nothing more.
   */
  get sendBufferBytes(): number {
    const now = performance.now();
    if (now - this.#bufferedAt >= BUFFERED_SUM_REUSE_MS) {
      let total = 0;
      for (const session of this.sessions) total += session.port.bufferedBytes;
      this.#buffered = total;
      this.#bufferedAt = now;
    }
    return this.#buffered;
  }

  chargeReplay(session: Session<TPrincipal>, bytes: number): number {
    return this.#replayBudgets.of(replayerKey(session)).reserve(bytes);
  }

  async replayTurn(session: Session<TPrincipal>, signal: AbortSignal): Promise<(() => void) | null> {
    if (signal.aborted) return null;
    const key = replayerKey(session);
    const waiting = this.#replayTurns.get(key);
    if (waiting) {
      // Behind the principal's page under way: woken when it ends, or gone from the line when aborted.
      const woken = await new Promise<boolean>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', leave);
          resolve(true);
        };
        const leave = () => {
          waiting.splice(waiting.indexOf(wake), 1);
          resolve(false);
        };
        waiting.push(wake);
        signal.addEventListener('abort', leave, { once: true });
      });
      if (!woken) return null;
    } else {
      this.#replayTurns.set(key, []);
    }
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const line = this.#replayTurns.get(key);
      const next = line?.shift();
      if (next) next();
      else this.#replayTurns.delete(key);
    };
  }

  /** The one clock: handshake timeouts, heartbeats, token expiry and re-checks. */
  sweep(now = performance.now()): void {
    const { limits, heartbeat } = this.#options;
    const wallNow = Date.now();
    this.#replayBudgets.sweep();
    for (const [key, revokedAt] of this.#recentlyRevoked) {
      if (now - revokedAt > RECENT_REVOCATION_MS) this.#recentlyRevoked.delete(key);
    }
    for (const session of this.sessions) {
      if (session.ending) continue;
      if (!session.ready) {
        if (now - session.openedAt >= limits.handshakeTimeoutMs) {
          this.#options.metrics.limitExceeded('handshake_timeout');
          this.#end(session, CloseCode.HandshakeTimeout, 'no connectionParams within the handshake timeout');
        }
        continue;
      }
      const credential = session.credential;
      if (credential) {
        if (wallNow >= credential.expiresAt) {
          this.#end(session, CloseCode.Unauthorized, 'access token expired: renew it');
          continue;
        }
        if (credential.recheckAt !== null && wallNow >= credential.recheckAt) this.#recheck(session);
      }
      if (!session.port.terminate) {
        // Peers that never answer (SSE) get a ping whenever nothing was written for an interval.
        if (now - session.lastSeenAt >= heartbeat.pingAfterMs) session.port.ping();
      } else if (session.pingSentAt === 0) {
        if (now - session.lastSeenAt >= heartbeat.pingAfterMs) {
          session.pingSentAt = now;
          session.port.ping();
        }
      } else if (now - session.pingSentAt >= heartbeat.terminateAfterMs) {
        session.port.terminate();
      }
    }
  }

  #recheck(session: Session<TPrincipal>): void {
    const token = session.token;
    if (session.rechecking || !token) return;
    session.rechecking = true;
    const startedAt = performance.now();
    this.#options.authenticate(token).then(
      (credential) => {
        session.rechecking = false;
        if (this.#revokedSince(credential, startedAt)) {
          return this.#end(session, CloseCode.Unauthorized, 'this token was revoked');
        }
        // A renew while this was under way wins: its credential is newer.
        if (!session.ended && session.token === token) this.#adopt(session, credential, token);
      },
      (cause: unknown) => {
        session.rechecking = false;
        const error = unauthorized(cause);
        // An outage is not a revocation: check again at the next sweep.
        if (error.code === 'UNAUTHORIZED') this.#end(session, CloseCode.Unauthorized, error.message);
      },
    );
  }

  /** Whether one of the credential's keys was revoked while it was being verified. */
  #revokedSince(credential: Credential<TPrincipal>, startedAt: number): boolean {
    return credential.revocationKeys.some((key) => (this.#recentlyRevoked.get(key) ?? -1) >= startedAt);
  }

  /** Tells the transport to end `session`, once. */
  #end(session: Session<TPrincipal>, code: CloseCode, reason: string): void {
    if (session.ending) return;
    session.ending = true;
    session.port.end(code, reason);
  }

  #adopt(session: Session<TPrincipal>, credential: Credential<TPrincipal>, token: string): void {
    const previous = session.credential;
    if (previous) {
      for (const key of previous.revocationKeys) this.#unbind(key, session);
    } else {
      let load = this.#perPrincipal.get(credential.principalKey);
      if (!load) {
        load = { connections: 0, subscriptions: 0 };
        this.#perPrincipal.set(credential.principalKey, load);
      }
      load.connections += 1;
      load.subscriptions += session.subscriptions.size;
      this.#loadChanged(credential.principalKey, load);
    }
    session.setCredential(credential);
    // Kept only where it is verified again: a token is the largest string a session would hold.
    session.token = credential.recheckAt ? token : null;
    for (const key of credential.revocationKeys) this.#bind(key, session);
  }

  #release(session: Session<TPrincipal>): void {
    const credential = session.credential;
    if (!credential) return;
    for (const key of credential.revocationKeys) this.#unbind(key, session);
    const load = this.#perPrincipal.get(credential.principalKey);
    if (!load) return;
    load.connections -= 1;
    if (load.connections <= 0) this.#perPrincipal.delete(credential.principalKey);
    this.#loadChanged(credential.principalKey, load.connections > 0 ? load : undefined);
  }

  /** Tells the other processes, if any, what a principal now holds here. */
  #loadChanged(principalKey: string | undefined, load: PrincipalLoad | undefined): void {
    if (principalKey) this.#options.sharedLoads?.report(principalKey, load);
  }

  #bind(key: string, holder: Session<TPrincipal> | Subscription): void {
    let bound = this.#revocable.get(key);
    if (!bound) {
      bound = new Set();
      this.#revocable.set(key, bound);
    }
    bound.add(holder);
  }

  #unbind(key: string, holder: Session<TPrincipal> | Subscription): void {
    const bound = this.#revocable.get(key);
    if (!bound) return;
    bound.delete(holder);
    if (bound.size === 0) this.#revocable.delete(key);
  }
}

/** Whose replay budget and turn a session's replays take: its principal's, or its address's while anonymous. */
function replayerKey(session: Session<unknown>): string {
  return session.credential?.principalKey ?? `address:${session.address}`;
}
