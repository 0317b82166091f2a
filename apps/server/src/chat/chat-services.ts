import type { Services } from '@tether/protocol';
import type { Bus, GroupCommit, Store } from '@tether/server-core';
import type { AccessTokens } from './access-tokens';
import { createAuthService } from './auth-service';
import { createMessagesService } from './messages-service';
import { createPresence } from './presence';
import { createRoomEventLog } from './room-events';
import { createRoomsService } from './rooms-service';
import { createTokensService } from './tokens-service';

export interface ChatServicesOptions {
  store: Store;
  /** Every write goes through it: batched, idempotent, fanned out after commit. */
  writes: GroupCommit;
  bus: Bus;
  accessTokens: AccessTokens;
  refreshTokenTtlDays: number;
}

/** The chat domain: everything in `Services` but the generic `system`. */
export function createChatServices(options: ChatServicesOptions): Omit<Services, 'system'> {
  const { store, writes, bus, accessTokens, refreshTokenTtlDays } = options;
  const events = createRoomEventLog(store, bus);
  const presence = createPresence(bus);
  return {
    auth: createAuthService({ store, writes, accessTokens, refreshTokenTtlDays }),
    rooms: createRoomsService({ store, writes, events, presence }),
    messages: createMessagesService({ store, writes, events, presence }),
    tokens: createTokensService({ store, writes, events }),
  };
}
