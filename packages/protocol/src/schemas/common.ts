import { z } from 'zod';
import { storableText } from '../core/storable-text';

export { storableText };

/** Limits the contract enforces; servers and clients read them from here. */
export const LIMITS = {
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 128,
  roomNameMax: 64,
  messageBodyMax: 4000,
  pageSizeMax: 100,
  pageSizeDefault: 50,
  idempotencyKeyMin: 8,
  idempotencyKeyMax: 128,
  /** Seqs are PostgreSQL integers. */
  seqMax: 2_147_483_647,
} as const;

export const idSchema = z.uuid({ error: 'must be a UUID' });

/** How many items a page holds. */
export const pageLimitSchema = z
  .number()
  .int()
  .min(1, `limit must be 1–${LIMITS.pageSizeMax}`)
  .max(LIMITS.pageSizeMax, `limit must be 1–${LIMITS.pageSizeMax}`)
  .default(LIMITS.pageSizeDefault)
  .describe('page size');

export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(LIMITS.usernameMin, `username must be ${LIMITS.usernameMin}–${LIMITS.usernameMax} characters`)
  .max(LIMITS.usernameMax, `username must be ${LIMITS.usernameMin}–${LIMITS.usernameMax} characters`)
  .regex(/^[a-z0-9._-]+$/, 'username may contain only letters, digits, ".", "_" and "-"')
  .describe('user name, case-insensitive');

/** Required on mutations whose retry must not apply twice; see docs/ARCHITECTURE.md. */
export const idempotencyKeySchema = z
  .string()
  .min(
    LIMITS.idempotencyKeyMin,
    `idempotencyKey must be ${LIMITS.idempotencyKeyMin}–${LIMITS.idempotencyKeyMax} characters`,
  )
  .max(
    LIMITS.idempotencyKeyMax,
    `idempotencyKey must be ${LIMITS.idempotencyKeyMin}–${LIMITS.idempotencyKeyMax} characters`,
  )
  .regex(/^[A-Za-z0-9._:-]+$/, 'idempotencyKey may contain only letters, digits, ".", "_", ":" and "-"')
  .describe('a client-chosen key; repeating it returns the first result instead of applying again');

export const seqSchema = z.number().int().nonnegative().max(LIMITS.seqMax).describe("the event's position in its room");

export const userSchema = z.object({
  id: idSchema,
  username: z.string(),
  createdAt: z.date(),
});
export type User = z.infer<typeof userSchema>;

/** The public face of a user, as embedded in messages and member lists. */
export const userRefSchema = z.object({ id: idSchema, username: z.string() });
export type UserRef = z.infer<typeof userRefSchema>;
