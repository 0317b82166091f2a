import { z } from 'zod';
import { LIMITS, storableText, usernameSchema, userSchema } from './common';

const passwordSchema = storableText('password')
  .min(LIMITS.passwordMin, `password must be ${LIMITS.passwordMin}–${LIMITS.passwordMax} characters`)
  .max(LIMITS.passwordMax, `password must be ${LIMITS.passwordMin}–${LIMITS.passwordMax} characters`)
  .describe('password');

export const credentialsSchema = z.object({ username: usernameSchema, password: passwordSchema });
export type Credentials = z.infer<typeof credentialsSchema>;

export const refreshInputSchema = z.object({
  refreshToken: storableText('refreshToken')
    .min(1, 'refreshToken is required')
    .describe('the refresh token from the last sign-in or refresh'),
});
export type RefreshInput = z.infer<typeof refreshInputSchema>;

export const authSessionSchema = z.object({
  user: userSchema,
  accessToken: z.string(),
  accessTokenExpiresAt: z.date(),
  refreshToken: z.string(),
});
export type AuthSession = z.infer<typeof authSessionSchema>;
