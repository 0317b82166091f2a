/**
 * The Tether contract.
 *
 * @example
 * ```ts
 * import type { AppRouter, RouterOutputs } from '@tether/protocol';
 * type Message = RouterOutputs['messages']['send'];
 * ```
 */

export type {
  Context,
  IdempotencyScope,
  Principal,
  Scope,
  ServicePrincipal,
  UserPrincipal,
} from './context';
export { SCOPES } from './context';
export { CloseCode, FATAL_CLOSE_CODES, FORBIDDEN_ORIGIN_HTTP_STATUS, SLOW_DOWN_CLOSE_CODES } from './core/codes';
export type { ConnectionParams, ParsedConnectionParams } from './core/connection-params';
export { connectionParamsSchema } from './core/connection-params';
export {
  type AnyTetherRouter,
  type ConnectionHealth,
  connectionHealthSchema,
  connectionRouter,
  type RenewInput,
  type RenewResult,
  type WithConnectionRouter,
  withConnectionRouter,
} from './core/connection-router';
export {
  formatError,
  INTERNAL_ERROR_MESSAGE,
  ResyncError,
  RetryLaterError,
  retryAfterSeconds,
  retryLater,
  SessionEndError,
  tooManyRequests,
  type ValidationIssue,
} from './core/errors';
export {
  isPushable,
  type Pushable,
  type PushRun,
  type PushSink,
  pushInto,
} from './core/push-delivery';
export type { SessionContext, SessionControls, Transport } from './core/session';
export { storableText } from './core/storable-text';
export { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './core/version';
export { applyPresenceUpdate, byUsername, presenceChanges } from './presence-state';
export { allRoomPages } from './room-pages';
export type { AppRouter, RouterInputs, RouterOutputs } from './router';
export { createAppRouter } from './router';
export type { AuthSession, Credentials, RefreshInput } from './schemas/auth';
export type { User, UserRef } from './schemas/common';
export { idempotencyKeySchema, LIMITS } from './schemas/common';
export type {
  RoomEvent,
  RoomEventsInput,
  RoomEventsQuery,
  RoomEventType,
  RoomStreamItem,
  RoomSynced,
} from './schemas/events';
export { roomEventSchema, roomSyncedSchema } from './schemas/events';
export type {
  DeleteMessageInput,
  EditMessageInput,
  ListMessagesInput,
  Message,
  MessagePage,
  SendMessageInput,
} from './schemas/messages';
export type { Presence, PresenceChanges, PresenceUpdate, TypingInput } from './schemas/presence';
export type {
  CreateRoomInput,
  FindRoomInput,
  InviteInput,
  Member,
  Room,
  RoomPage,
  RoomPageInput,
  RoomRefInput,
  RoomVisibility,
} from './schemas/rooms';
export type { CreatedToken, CreateTokenInput, ServiceToken } from './schemas/tokens';
export type { Caller, Services, StreamScope } from './services';
