import { describe, expect, it } from 'vitest';
import { loadConfig } from './env';

const SECRET = 'a'.repeat(32);

describe('the environment for several processes', () => {
  it('takes REDIS_URL with PostgreSQL and a shared token secret', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://127.0.0.1/tether',
      TETHER_TOKEN_SECRET: SECRET,
    });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('refuses REDIS_URL on the embedded database or with a secret of each process', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', TETHER_TOKEN_SECRET: SECRET })).toThrow(
      'REDIS_URL: needs DATABASE_URL and TETHER_TOKEN_SECRET',
    );
    expect(() =>
      loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://127.0.0.1/tether' }),
    ).toThrow('REDIS_URL: needs DATABASE_URL and TETHER_TOKEN_SECRET');
  });
});
