import { describe, expect, it } from 'vitest';
import { normalizeToken, renewalDelayMs } from './access-token';

describe('access tokens', () => {
  it('accept a bare token or one with its expiry', () => {
    expect(normalizeToken('t')).toEqual({ token: 't', expiresAt: null });
    const expiresAt = new Date(0);
    expect(normalizeToken({ token: 't', expiresAt })).toEqual({ token: 't', expiresAt });
    expect(normalizeToken(null)).toBeNull();
  });

  it('are renewed ahead of expiry, at half their life when that is sooner', () => {
    const now = 1_000_000;
    expect(renewalDelayMs(new Date(now + 15 * 60_000), 60_000, now)).toBe(14 * 60_000);
    expect(renewalDelayMs(new Date(now + 10_000), 60_000, now)).toBe(5_000);
    expect(renewalDelayMs(new Date(now - 1), 60_000, now)).toBe(0);
  });
});
