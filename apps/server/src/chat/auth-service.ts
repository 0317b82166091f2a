import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AuthSession, Principal, Services, User } from '@tether/protocol';
import type { GroupCommit, Queryable, RevocationLog, Store } from '@tether/server-core';
import { isUniqueViolation } from '@tether/server-core';
import { TRPCError } from '@trpc/server';
import type { AccessTokens } from './access-tokens';
import type { PasswordHasher } from './passwords';
import type { SignInLimits } from './sign-in-limits';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: Date;
}

const toUser = (row: Omit<UserRow, 'password_hash'>): User => ({
  id: row.id,
  username: row.username,
  createdAt: row.created_at,
});

const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('base64url');

const unauthorized = (message: string) => new TRPCError({ code: 'UNAUTHORIZED', message });

/** A session as the transaction leaves it: the access token is signed after the commit. */
interface SessionOpened {
  user: User;
  refreshToken: string;
  /** The refresh-token family: one sign-in, however often it is refreshed. */
  signInId: string;
}

/** The revocation key that ends every open session of one sign-in. */
export const signInRevocationKey = (signInId: string) => `sign-in:${signInId}`;

/**
 * Deletes refresh tokens past their expiry, used or not: one comes back only
 * to be refused ("sign in again") either way, and a row is left by every refresh.
 * Returns how many went.
 */
export async function sweepExpiredRefreshTokens(store: Queryable): Promise<number> {
  const gone = await store.query('DELETE FROM refresh_tokens WHERE expires_at < now() RETURNING 1');
  return gone.length;
}

/** Arbitrary constant for the advisory lock that lets one first sign-up at a time decide who is admin. */
const ADMIN_BOOTSTRAP_LOCK_KEY = 7_461_727;

export interface AuthServiceOptions {
  store: Store;
  writes: GroupCommit;
  accessTokens: AccessTokens;
  refreshTokenTtlDays: number;
  /** Ends open sessions bound to a revocation key, on every server process, once the write commits. */
  revocations: Pick<RevocationLog, 'record'>;
  signInLimits: SignInLimits;
  /** Hashes and checks passwords a few at a time, so sign-ins cannot take every core. */
  passwords: PasswordHasher;
}

/** Sign-up, sign-in and rotating refresh tokens. A reused refresh token revokes its whole family. */
export function createAuthService({
  store,
  writes,
  accessTokens,
  refreshTokenTtlDays,
  revocations,
  signInLimits,
  passwords,
}: AuthServiceOptions): Services['auth'] {
  /** Records a new refresh token for `user` in `tx`. */
  async function openSession(tx: Queryable, user: User, familyId: string): Promise<SessionOpened> {
    const refreshToken = randomBytes(32).toString('base64url');
    await tx.query(
      `INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(days => $4))`,
      [hashRefreshToken(refreshToken), user.id, familyId, refreshTokenTtlDays],
    );
    return { user, refreshToken, signInId: familyId };
  }

  /** Signs the access token once the session is committed: signing has no place inside a write batch. */
  async function withAccessToken({ user, refreshToken, signInId }: SessionOpened): Promise<AuthSession> {
    const principal: Principal = { kind: 'user', userId: user.id, username: user.username };
    const access = await accessTokens.issue(principal, signInId);
    return { user, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken };
  }

  return {
    async signUp({ username, password }, { address }) {
      // Before anything is counted or read: a refusal for a busy server must cost the caller nothing.
      passwords.refuseIfBusy();
      await signInLimits.admitSignUp(address);
      const passwordHash = await passwords.hash(password);
      try {
        const opened = await writes.run(async (tx) => {
          const [admin] = await tx.query('SELECT 1 FROM users WHERE is_admin LIMIT 1');
          // Until someone is admin, sign-ups take turns; each statement below then sees the ones committed before it.
          if (!admin) await tx.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_BOOTSTRAP_LOCK_KEY]);
          const [row] = await tx.query<UserRow>(
            // The first person to sign up administers the server (service tokens).
            `INSERT INTO users (id, username, password_hash, is_admin)
             VALUES ($1, $2, $3, NOT EXISTS (SELECT 1 FROM users WHERE NOT is_service))
             RETURNING id, username, created_at`,
            [randomUUID(), username, passwordHash],
          );
          if (!row) throw new Error('insert returned no user');
          return openSession(tx, toUser(row), randomUUID());
        });
        return await withAccessToken(opened);
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new TRPCError({ code: 'CONFLICT', message: `username "${username}" is taken` });
        }
        throw error;
      }
    },

    async signIn({ username, password }, { address }) {
      // Before anything is counted or read: a refusal for a busy server must cost the caller nothing.
      passwords.refuseIfBusy();
      // A wrong password is counted whether the username exists or not: the limit must not tell which ones do.
      const granted = await signInLimits.admitSignIn(address, username);
      const [stored] = await store.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
      let row: UserRow | undefined;
      try {
        row = await passwords.check(password, stored && { hash: stored.password_hash, found: stored });
      } catch (error) {
        // Refused for a busy server after all (the queue filled meanwhile): no password was tried.
        await granted.notAWrongPassword();
        throw error;
      }
      if (!row) throw unauthorized('wrong username or password');
      await granted.notAWrongPassword();
      return withAccessToken(await writes.run((tx) => openSession(tx, toUser(row), randomUUID())));
    },

    async refresh({ refreshToken }) {
      const outcome = await writes.run(async (tx) => {
        const [token] = await tx.query<{
          user_id: string;
          family_id: string;
          expired: boolean;
          used_at: Date | null;
          revoked_at: Date | null;
        }>(
          `SELECT user_id, family_id, expires_at < now() AS expired, used_at, revoked_at
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
          [hashRefreshToken(refreshToken)],
        );
        if (!token) return { ok: false, error: 'refresh token unknown: sign in again' } as const;
        if (token.used_at || token.revoked_at) {
          // A rotated token came back: it may be stolen, so end every session of its family.
          await tx.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [
            token.family_id,
          ]);
          await revocations.record(tx, signInRevocationKey(token.family_id), 'this sign-in was revoked: sign in again');
          return { ok: false, error: 'refresh token already used or revoked: sign in again' } as const;
        }
        if (token.expired) return { ok: false, error: 'refresh token expired: sign in again' } as const;
        await tx.query('UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1', [
          hashRefreshToken(refreshToken),
        ]);
        const [user] = await tx.query<UserRow>('SELECT id, username, created_at FROM users WHERE id = $1', [
          token.user_id,
        ]);
        if (!user) return { ok: false, error: 'user no longer exists' } as const;
        return { ok: true, session: await openSession(tx, toUser(user), token.family_id) } as const;
      });
      // The family revocation above must commit, so the error is thrown after the transaction.
      if (!outcome.ok) throw unauthorized(outcome.error);
      return withAccessToken(outcome.session);
    },

    async signOut({ refreshToken }) {
      await writes.run(async (tx) => {
        const [signedOut] = await tx.query<{ family_id: string }>(
          `UPDATE refresh_tokens SET revoked_at = now()
           WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL
           RETURNING family_id`,
          [hashRefreshToken(refreshToken)],
        );
        if (signedOut) await revocations.record(tx, signInRevocationKey(signedOut.family_id), 'signed out');
      });
    },

    async me(principal) {
      const [row] = await store.query<UserRow>('SELECT id, username, created_at FROM users WHERE id = $1', [
        principal.userId,
      ]);
      if (!row) throw unauthorized('user no longer exists');
      return toUser(row);
    },
  };
}
