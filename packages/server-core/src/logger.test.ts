import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger, flushLogger, type LogLevel } from './logger';

function capture(level: LogLevel = 'debug') {
  const lines: string[] = [];
  const logger = createLogger(level, (line) => lines.push(line));
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, parsed };
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Shaped like the HS256 access tokens apps/server issues. */
const jwt = [
  base64url({ alg: 'HS256' }),
  base64url({ name: 'ada', kind: 'user', sub: 'u1', iss: 'tether', aud: 'tether:access', iat: 1, exp: 2 }),
  randomBytes(32).toString('base64url'),
].join('.');
/** Shaped like apps/server's service tokens. */
const serviceToken = `tts_${randomBytes(32).toString('base64url')}`;

describe('createLogger', () => {
  it('writes one JSON object per line: time (ISO), level (its name), event, then the fields', () => {
    const { logger, lines, parsed } = capture('info');
    logger.info('server.listening', { url: 'http://127.0.0.1:3000', engine: 'pglite' });
    logger.warn('store.sweep_failed');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.indexOf('\n')).toBe(line.length - 1);
    }
    const [listening, failed] = parsed();
    expect(listening).toEqual({
      time: expect.any(String),
      level: 'info',
      event: 'server.listening',
      url: 'http://127.0.0.1:3000',
      engine: 'pglite',
    });
    expect(new Date(listening?.time as string).toISOString()).toBe(listening?.time);
    expect(failed).toEqual({ time: expect.any(String), level: 'warn', event: 'store.sweep_failed' });
  });

  it('writes each line synchronously to the sink', () => {
    const { logger, lines } = capture();
    logger.error('boom', { n: 1 });
    expect(lines).toHaveLength(1);
  });

  it('filters by level', () => {
    const levels = (level: LogLevel) => {
      const { logger, parsed } = capture(level);
      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      logger.error('e');
      return parsed().map((line) => line.level);
    };
    expect(levels('debug')).toEqual(['debug', 'info', 'warn', 'error']);
    expect(levels('info')).toEqual(['info', 'warn', 'error']);
    expect(levels('warn')).toEqual(['warn', 'error']);
    expect(levels('error')).toEqual(['error']);
    expect(levels('silent')).toEqual([]);
  });

  it('redacts fields named like secrets, at the top level and nested', () => {
    const { logger, parsed } = capture();
    logger.info('auth.signed_in', {
      token: 'opaque-secret',
      password: 'hunter2',
      auth: { accessToken: 'opaque-access', refreshToken: 'opaque-refresh', userId: 'u1' },
      headers: { authorization: 'Basic dXNlcjpwYXNz', host: 'localhost' },
      sessions: [{ token: 'in-an-array' }],
    });
    expect(parsed()[0]).toMatchObject({
      token: '[redacted]',
      password: '[redacted]',
      auth: { accessToken: '[redacted]', refreshToken: '[redacted]', userId: 'u1' },
      headers: { authorization: '[redacted]', host: 'localhost' },
      sessions: [{ token: '[redacted]' }],
    });
  });

  it('redacts token-shaped strings whatever the field is called: JWTs, service tokens, bearer credentials', () => {
    const { logger, lines, parsed } = capture();
    logger.warn('ws.auth_failed', {
      credential: jwt,
      key: serviceToken,
      header: `Bearer ${jwt}`,
      message: `rejected ${serviceToken} from 10.0.0.1`,
      nested: { list: [jwt] },
    });
    expect(parsed()[0]).toMatchObject({
      credential: '[redacted]',
      key: '[redacted]',
      header: '[redacted]',
      message: 'rejected [redacted] from 10.0.0.1',
      nested: { list: ['[redacted]'] },
    });
    expect(lines[0]).not.toContain(jwt.split('.')[2]);
    expect(lines[0]).not.toContain(serviceToken.slice(4));
  });

  it('leaves ordinary dotted and underscored values alone', () => {
    const { logger, parsed } = capture();
    const fields = {
      version: '0.1.0',
      host: 'api.example.com',
      event_name: 'room.message.sent',
      file: 'pglite-worker.mjs',
      id: 'msg_01HZX3',
    };
    logger.info('ordinary', fields);
    expect(parsed()[0]).toMatchObject(fields);
  });

  it("never changes the caller's objects", () => {
    const { logger } = capture();
    const fields = { token: 'secret', auth: { accessToken: 'secret' }, note: `Bearer ${jwt}` };
    const before = structuredClone(fields);
    logger.info('x', fields);
    expect(fields).toEqual(before);
  });

  it('flushLogger resolves at once for a sink (its lines are already written)', async () => {
    const { logger, lines } = capture();
    logger.info('x');
    await flushLogger(logger);
    expect(lines).toHaveLength(1);
    await flushLogger({ debug() {}, info() {}, warn() {}, error() {} });
  });
});
