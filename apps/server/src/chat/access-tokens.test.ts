import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAccessTokens, InvalidAccessToken } from './access-tokens';

const principal = { kind: 'user', userId: '0b5f9f43-5b43-4e55-9b7a-3b9f0e7f6d1a', username: 'alice' } as const;
const signInId = '5d0c8a53-95a7-4b0e-a8a4-0f4e0a7e9c11';

describe('access tokens', () => {
  it('report the exact instant the token stops being valid', async () => {
    const tokens = createAccessTokens({ secret: randomBytes(32), ttlSeconds: 2 });
    const issued = await tokens.issue(principal, signInId);
    const verified = await tokens.verify(issued.token);
    expect(verified.expiresAt.getTime()).toBe(issued.expiresAt.getTime());
    expect(verified.principal).toEqual(principal);
    expect(verified.signInId).toBe(signInId);
  });

  it('refuse expired and forged tokens with a reason', async () => {
    const secret = randomBytes(32);
    const expired = await createAccessTokens({ secret, ttlSeconds: -10 }).issue(principal, signInId);
    await expect(createAccessTokens({ secret, ttlSeconds: 60 }).verify(expired.token)).rejects.toMatchObject({
      reason: 'expired',
    });
    const forged = await createAccessTokens({ secret: randomBytes(32), ttlSeconds: 60 }).issue(principal, signInId);
    await expect(createAccessTokens({ secret, ttlSeconds: 60 }).verify(forged.token)).rejects.toBeInstanceOf(
      InvalidAccessToken,
    );
  });
});
