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

describe('the origins browsers reach the server at', () => {
  it('takes a comma-separated list, serialized as browsers send Origin', () => {
    const config = loadConfig({ TETHER_PUBLIC_ORIGIN: 'https://Chat.Example.com/, http://10.0.0.5:8080' });
    expect(config.publicOrigins).toEqual(['https://chat.example.com', 'http://10.0.0.5:8080']);
    expect(loadConfig({}).publicOrigins).toEqual([]);
  });

  it('refuses to start with anything that is not an origin, naming it', () => {
    for (const value of ['chat.example.com', 'https://chat.example.com/app', 'ftp://chat.example.com', '*']) {
      expect(() => loadConfig({ TETHER_PUBLIC_ORIGIN: value }), value).toThrow(
        `TETHER_PUBLIC_ORIGIN: "${value}" is not an origin`,
      );
    }
  });
});

describe('the metrics token', () => {
  it('is optional, and at least 16 characters when set', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ TETHER_METRICS_TOKEN: 'x'.repeat(16) }).metricsToken).toBe('x'.repeat(16));
    expect(() => loadConfig({ TETHER_METRICS_TOKEN: 'short' })).toThrow('TETHER_METRICS_TOKEN must be at least 16');
  });
});
