import { z } from 'zod';
import {
  idempotencyKeySchema,
  idSchema,
  LIMITS,
  pageLimitSchema,
  seqSchema,
  usernameSchema,
  userRefSchema,
} from './common';

export const roomVisibilitySchema = z
  .enum(['public', 'private'])
  .describe('public rooms anyone may join; private rooms by invitation');
export type RoomVisibility = z.infer<typeof roomVisibilitySchema>;

export const roomNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, `room name must be 1–${LIMITS.roomNameMax} characters`)
  .max(LIMITS.roomNameMax, `room name must be 1–${LIMITS.roomNameMax} characters`)
  .regex(
    /^[a-z0-9][a-z0-9_-]*$/,
    'room name may contain only letters, digits, "_" and "-", and starts with a letter or digit',
  )
  .describe('room name, case-insensitive; unique among public rooms');

export const roomSchema = z.object({
  id: idSchema,
  name: z.string(),
  visibility: roomVisibilitySchema,
  createdBy: idSchema,
  createdAt: z.date(),
  isMember: z.boolean(),
  memberCount: z.number().int().nonnegative(),
  lastSeq: seqSchema,
});
export type Room = z.infer<typeof roomSchema>;

export const memberSchema = z.object({ user: userRefSchema, joinedAt: z.date() });
export type Member = z.infer<typeof memberSchema>;

const roomIdField = idSchema.describe('room id');

export const createRoomInputSchema = z.object({
  name: roomNameSchema,
  visibility: roomVisibilitySchema.default('public'),
  idempotencyKey: idempotencyKeySchema.optional(),
});
export type CreateRoomInput = z.infer<typeof createRoomInputSchema>;

export const roomRefInputSchema = z.object({ roomId: roomIdField });
export type RoomRefInput = z.infer<typeof roomRefInputSchema>;

export const inviteInputSchema = z.object({
  roomId: roomIdField,
  username: usernameSchema.describe('the user to invite'),
});
export type InviteInput = z.infer<typeof inviteInputSchema>;

/** One page of rooms, in name order. */
export const roomPageInputSchema = z
  .object({
    name: z
      .string()
      .trim()
      .toLowerCase()
      .max(LIMITS.roomNameMax, `name filter must be at most ${LIMITS.roomNameMax} characters`)
      .optional()
      .describe('only rooms whose name contains this'),
    cursor: z.string().max(256).optional().describe("the previous page's nextCursor"),
    limit: pageLimitSchema,
  })
  .prefault({});
export type RoomPageInput = z.infer<typeof roomPageInputSchema>;

export const roomPageSchema = z.object({
  rooms: z.array(roomSchema),
  /** Pass as `cursor` for the next page; null when there is none. */
  nextCursor: z.string().nullable(),
});
export type RoomPage = z.infer<typeof roomPageSchema>;

export const findRoomInputSchema = z.object({ name: roomNameSchema });
export type FindRoomInput = z.infer<typeof findRoomInputSchema>;
