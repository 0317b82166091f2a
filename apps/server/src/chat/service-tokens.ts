import { createHash, randomBytes } from 'node:crypto';

/** Service tokens are opaque: a recognisable prefix and 32 random bytes; only a hash is stored. */
const PREFIX = 'tts_';

export const isServiceToken = (token: string) => token.startsWith(PREFIX);
export const newServiceToken = () => `${PREFIX}${randomBytes(32).toString('base64url')}`;
export const hashServiceToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/** They do not expire (revocation ends them): "expires" far in the future for the session timer. */
export const SERVICE_TOKEN_EXPIRY = new Date('9999-12-31T00:00:00Z');
