import type { Services } from '@tether/protocol';
import type { Bus, GroupCommit, RevocationLog, Roster, Store } from '@tether/server-core';
import type { AccessTokens } from './access-tokens';
import { createAuthService } from './auth-service';
import { createMessagesService } from './messages-service';
import type { PasswordHasher } from './passwords';
import { createPresence } from './presence';
import { createRoomEventLog } from './room-events';
import { createRoomsService } from './rooms-service';
import type { SignInLimits } from './sign-in-limits';
import { createTokensService } from './tokens-service';
import type { WriteLimits } from './write-limits';

export interface ChatServicesOptions {
  store: Store;
  /** Every write goes through it: batched, idempotent, fanned out after commit. */
  writes: GroupCommit;
  bus: Bus;
  /** Presence across processes; this process alone when absent. */
  roster?: Roster;
  /** Where the bus may lose a message: how often room streams check their heads and presence is read again. */
  recheckMs?: number | null;
  /** Presence is best effort: its failures are reported here. */
  onFanOutError?(error: unknown): void;
  accessTokens: AccessTokens;
  refreshTokenTtlDays: number;
  /** Ends open sessions and streams bound to a revocation key, on every server process, once the write commits. */
  revocations: Pick<RevocationLog, 'record'>;
  /** Sign-in and sign-up attempts per address and wrong passwords per username. */
  signInLimits: SignInLimits;
  /** Writes and new rooms per user. */
  writeLimits: WriteLimits;
  passwords: PasswordHasher;
}

/** The chat domain: everything in `Services`. */
export function createChatServices(options: ChatServicesOptions): Services {
  const { store, writes, bus, revocations, writeLimits } = options;
  const recheckMs = options.recheckMs ?? null;
  const events = createRoomEventLog(store, bus, { headCheckMs: recheckMs });
  const presence = createPresence(bus, { roster: options.roster, recheckMs, onError: options.onFanOutError });
  return {
    auth: createAuthService(options),
    rooms: createRoomsService({ store, writes, events, presence, revocations, writeLimits }),
    messages: createMessagesService({ store, writes, events, presence, writeLimits }),
    tokens: createTokensService({ store, writes, events, revocations }),
  };
}
