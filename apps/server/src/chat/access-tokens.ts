import type { Principal } from '@tether/protocol';
import { errors, jwtVerify, SignJWT } from 'jose';

const ISSUER = 'tether';
const AUDIENCE = 'tether:access';

/** An access token's claims: who, until when, and the sign-in (refresh-token family) it belongs to. */
export interface AccessClaims {
  principal: Principal;
  expiresAt: Date;
  signInId: string;
}

export interface AccessTokens {
  issue(principal: Principal, signInId: string): Promise<{ token: string; expiresAt: Date }>;
  /** Throws `InvalidAccessToken` for a forged, malformed or expired token. */
  verify(token: string): Promise<AccessClaims>;
}

export class InvalidAccessToken extends Error {
  constructor(readonly reason: 'expired' | 'invalid') {
    super(reason === 'expired' ? 'access token expired: refresh it' : 'access token invalid');
  }
}

/** Short-lived HS256 JWTs signed with the server's secret. */
export function createAccessTokens(options: { secret: Uint8Array; ttlSeconds: number }): AccessTokens {
  const { ttlSeconds } = options;
  // Imported once: jose given the raw bytes imports them again for every token, a third of a verification's time.
  const secret = crypto.subtle.importKey('raw', options.secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
  // A key that cannot be imported fails every issue and verify that awaits it, not the process in between.
  secret.catch(() => {});
  return {
    async issue(principal, signInId) {
      // JWT `exp` has whole seconds: report exactly that instant, or a client would renew too late.
      const expiresAt = new Date(Math.floor(Date.now() / 1000 + ttlSeconds) * 1000);
      const token = await new SignJWT({ name: principal.username, kind: principal.kind, sid: signInId })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(principal.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(expiresAt.getTime() / 1000)
        .sign(await secret);
      return { token, expiresAt };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, await secret, {
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ['HS256'],
        });
        const { kind, sub, name, exp, sid } = payload;
        if (
          kind !== 'user' ||
          typeof sub !== 'string' ||
          typeof name !== 'string' ||
          typeof exp !== 'number' ||
          typeof sid !== 'string'
        ) {
          throw new InvalidAccessToken('invalid');
        }
        return {
          principal: { kind: 'user', userId: sub, username: name },
          expiresAt: new Date(exp * 1000),
          signInId: sid,
        };
      } catch (error) {
        if (error instanceof InvalidAccessToken) throw error;
        throw new InvalidAccessToken(error instanceof errors.JWTExpired ? 'expired' : 'invalid');
      }
    },
  };
}
