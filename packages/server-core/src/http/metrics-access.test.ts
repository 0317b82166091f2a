import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { metricsAccess } from './metrics-access';

/** A request as HTTP/1.1 clients send it: with a Host (here the server's loopback address, unless given). */
const request = (remoteAddress: string, headers: Record<string, string> = {}) =>
  ({ socket: { remoteAddress }, headers: { host: '127.0.0.1:3000', ...headers } }) as unknown as IncomingMessage;

describe('who may read /metrics without a token', () => {
  const mayRead = metricsAccess(undefined);

  it('this machine', () => {
    for (const address of ['127.0.0.1', '127.0.0.53', '::1', '::ffff:127.0.0.1']) {
      expect(mayRead(request(address)), address).toBe(true);
    }
  });

  it('no other peer, whatever it claims to be forwarded for', () => {
    expect(mayRead(request('203.0.113.9'))).toBe(false);
    expect(mayRead(request('10.0.0.5', { 'x-forwarded-for': '127.0.0.1' }))).toBe(false);
    expect(mayRead(request('::ffff:192.168.1.2'))).toBe(false);
  });

  it('no page under a DNS name pointed at this machine (rebinding), though it asks from loopback', () => {
    expect(mayRead(request('127.0.0.1', { host: 'evil.example:3000' }))).toBe(false);
    expect(mayRead(request('127.0.0.1', { host: 'localhost:3000' }))).toBe(true);
    expect(mayRead(request('::1', { host: '[::1]:3000' }))).toBe(true);
  });

  it('nobody a proxy on this machine forwarded', () => {
    expect(mayRead(request('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }))).toBe(false);
    expect(mayRead(request('127.0.0.1', { forwarded: 'for=203.0.113.9' }))).toBe(false);
    expect(mayRead(request('127.0.0.1', { 'x-real-ip': '203.0.113.9' }))).toBe(false);
  });
});

describe('who may read /metrics with a token', () => {
  const token = 'scrape-me-0123456789';
  const mayRead = metricsAccess(token);

  it('whoever presents it, from anywhere', () => {
    expect(mayRead(request('203.0.113.9', { authorization: `Bearer ${token}` }))).toBe(true);
    expect(mayRead(request('127.0.0.1', { authorization: `bearer ${token}` }))).toBe(true);
  });

  it('nobody else, not even this machine', () => {
    expect(mayRead(request('127.0.0.1'))).toBe(false);
    expect(mayRead(request('127.0.0.1', { authorization: 'Bearer wrong' }))).toBe(false);
    expect(mayRead(request('127.0.0.1', { authorization: `Bearer ${token}x` }))).toBe(false);
    expect(mayRead(request('127.0.0.1', { authorization: token }))).toBe(false);
  });
});
