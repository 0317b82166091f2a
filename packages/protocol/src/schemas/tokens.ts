import { z } from 'zod';
import { SCOPES } from '../context';
import { idSchema, usernameSchema } from './common';

export const scopeSchema = z.enum(SCOPES).describe('what the token may do');

export const createTokenInputSchema = z.object({
  name: usernameSchema.describe("the service's name; its messages show under it"),
  scopes: z
    .array(scopeSchema)
    .min(1, 'give at least one scope')
    .describe(`scopes: ${SCOPES.join(', ')}`),
  roomIds: z.array(idSchema).default([]).describe('limit the token to these rooms (none: any room it is added to)'),
});
export type CreateTokenInput = z.infer<typeof createTokenInputSchema>;

export const serviceTokenSchema = z.object({
  id: idSchema,
  name: z.string(),
  scopes: z.array(scopeSchema),
  roomIds: z.array(idSchema),
  createdAt: z.date(),
  revokedAt: z.date().nullable(),
});
export type ServiceToken = z.infer<typeof serviceTokenSchema>;

/** Returned once, at creation: only a hash of `token` is kept. */
export const createdTokenSchema = serviceTokenSchema.extend({ token: z.string() });
export type CreatedToken = z.infer<typeof createdTokenSchema>;

export const tokenRefInputSchema = z.object({ id: idSchema.describe('token id') });
