import { z } from 'zod';
import {
  idempotencyKeySchema,
  idSchema,
  LIMITS,
  pageLimitSchema,
  seqSchema,
  storableText,
  userRefSchema,
} from './common';

/**
 * Something a reader can see: not only whitespace, nor only invisible format characters (zero-width space and
 * joiners, word joiner, byte-order mark, soft hyphen: Unicode's Cf) or the blank-looking fillers (Hangul fillers,
 * the braille blank).
 */
const VISIBLE = /[^\s\p{Cf}\u115F\u1160\u2800\u3164\uFFA0]/u;

const bodySchema = storableText('body')
  .min(1, `body must be 1–${LIMITS.messageBodyMax} characters`)
  .max(LIMITS.messageBodyMax, `body must be 1–${LIMITS.messageBodyMax} characters`)
  .refine((body) => VISIBLE.test(body), 'body must not be blank')
  .describe('message text');

export const messageSchema = z.object({
  id: idSchema,
  roomId: idSchema,
  seq: seqSchema.describe('the seq of the event that created the message'),
  author: userRefSchema,
  body: z.string(),
  createdAt: z.date(),
  editedAt: z.date().nullable(),
});
export type Message = z.infer<typeof messageSchema>;

export const sendMessageInputSchema = z.object({
  roomId: idSchema.describe('room id'),
  body: bodySchema,
  idempotencyKey: idempotencyKeySchema,
});
export type SendMessageInput = z.infer<typeof sendMessageInputSchema>;

export const editMessageInputSchema = z.object({
  messageId: idSchema.describe('message id'),
  body: bodySchema,
  idempotencyKey: idempotencyKeySchema.optional(),
});
export type EditMessageInput = z.infer<typeof editMessageInputSchema>;

export const deleteMessageInputSchema = z.object({
  messageId: idSchema.describe('message id'),
  idempotencyKey: idempotencyKeySchema.optional(),
});
export type DeleteMessageInput = z.infer<typeof deleteMessageInputSchema>;

export const listMessagesInputSchema = z.object({
  roomId: idSchema.describe('room id'),
  beforeSeq: seqSchema.optional().describe("return messages older than this seq (the previous page's nextBeforeSeq)"),
  limit: pageLimitSchema,
});
export type ListMessagesInput = z.infer<typeof listMessagesInputSchema>;

export const messagePageSchema = z.object({
  /** Newest first. */
  messages: z.array(messageSchema),
  /** Pass as `beforeSeq` for the next (older) page; null when there is none. */
  nextBeforeSeq: seqSchema.nullable(),
});
export type MessagePage = z.infer<typeof messagePageSchema>;
