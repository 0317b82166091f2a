import { createHash, randomBytes } from 'node:crypto';

/** Service tokens are opaque: a recognisable prefix and 32 random bytes; only a hash is stored. */
const PREFIX = 'tts_';

export const isServiceToken = (token: string) => token.startsWith(PREFIX);
export const newServiceToken = () => `${PREFIX}${randomBytes(32).toString('base64url')}`;
export const hashServiceToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/** The revocation key that ends every open session of one service token. */
export const serviceTokenRevocationKey = (tokenId: string) => `service-token:${tokenId}`;
