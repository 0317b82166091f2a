/**
 * The Tether contract.
 *
 * @example
 * ```ts
 * import type { AppRouter, RouterOutputs } from '@tether/protocol';
 * type Message = RouterOutputs['messages']['send'];
 * ```
 */
export { CloseCode, FATAL_CLOSE_CODES, FORBIDDEN_ORIGIN_HTTP_STATUS, SLOW_DOWN_CLOSE_CODES } from './codes';
export type { ConnectionParams, ParsedConnectionParams } from './connection-params';
export { connectionParamsSchema } from './connection-params';
export type {
  ConnectionControls,
  Context,
  IdempotencyScope,
  Principal,
  Scope,
  ServicePrincipal,
  UserPrincipal,
} from './context';
export { SCOPES } from './context';
export type { AppRouter, RouterInputs, RouterOutputs } from './router';
export { createAppRouter } from './router';
export type { AuthSession, Credentials, RefreshInput, RenewInput, RenewResult } from './schemas/auth';
export type { User, UserRef } from './schemas/common';
export { idempotencyKeySchema, LIMITS, storableText } from './schemas/common';
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
export type { Presence, TypingInput } from './schemas/presence';
export type { CreateRoomInput, InviteInput, Member, Room, RoomRefInput, RoomVisibility } from './schemas/rooms';
export type { Health } from './schemas/system';
export type { CreatedToken, CreateTokenInput, ServiceToken } from './schemas/tokens';
export type { Services } from './services';
export type { ValidationIssue } from './trpc';
export { INTERNAL_ERROR_MESSAGE } from './trpc';
export { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './version';
