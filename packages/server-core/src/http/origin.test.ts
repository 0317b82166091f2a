import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isOriginAllowed, originPolicy } from './origin';

/** A request as the check sees it: its `Origin` (if any) and `Host`. */
const request = (origin: string | undefined, host: string) =>
  ({ headers: { host, ...(origin === undefined ? {} : { origin }) } }) as IncomingMessage;

describe('the origin check without a public origin', () => {
  const policy = originPolicy();

  it('lets in a client that sends no Origin (not a browser)', () => {
    expect(isOriginAllowed(request(undefined, 'evil.example:3000'), policy)).toBe(true);
  });

  it('lets in the server’s own page under an IP literal or localhost', () => {
    for (const host of ['127.0.0.1:3000', '127.4.5.6:3000', 'localhost:3000', '[::1]:3000', '192.168.1.20:3000']) {
      expect(isOriginAllowed(request(`http://${host}`, host), policy), host).toBe(true);
    }
    expect(isOriginAllowed(request('http://[2001:db8::1]:8080', '[2001:db8::1]:8080'), policy)).toBe(true);
    expect(isOriginAllowed(request('https://10.0.0.7', '10.0.0.7'), policy)).toBe(true);
  });

  it('refuses a DNS name whose Origin and Host agree: the shape of DNS rebinding', () => {
    expect(isOriginAllowed(request('http://evil.example:3000', 'evil.example:3000'), policy)).toBe(false);
    expect(isOriginAllowed(request('https://chat.example.com', 'chat.example.com'), policy)).toBe(false);
    // A name that spells an address is still a name.
    expect(isOriginAllowed(request('http://127.0.0.1.nip.io:3000', '127.0.0.1.nip.io:3000'), policy)).toBe(false);
  });

  it('refuses an Origin that does not match the Host', () => {
    expect(isOriginAllowed(request('http://127.0.0.1:4000', '127.0.0.1:3000'), policy)).toBe(false);
    expect(isOriginAllowed(request('http://localhost:3000', '127.0.0.1:3000'), policy)).toBe(false);
    expect(isOriginAllowed(request('https://evil.example', '127.0.0.1:3000'), policy)).toBe(false);
  });

  it('refuses opaque and malformed origins', () => {
    for (const origin of ['null', 'file://', 'not a url', '']) {
      expect(isOriginAllowed(request(origin, '127.0.0.1:3000'), policy), origin).toBe(false);
    }
  });
});

describe('the origin check with public origins', () => {
  const policy = originPolicy([], ['https://chat.example.com', 'http://127.0.0.1:3000']);

  it('lets in each public origin, whatever the Host a proxy passed on', () => {
    expect(isOriginAllowed(request('https://chat.example.com', '10.0.0.5:3000'), policy)).toBe(true);
    expect(isOriginAllowed(request('http://127.0.0.1:3000', '127.0.0.1:3000'), policy)).toBe(true);
  });

  it('lets in nothing else that agrees with the Host, not even loopback', () => {
    expect(isOriginAllowed(request('http://evil.example:3000', 'evil.example:3000'), policy)).toBe(false);
    expect(isOriginAllowed(request('http://localhost:3000', 'localhost:3000'), policy)).toBe(false);
    expect(isOriginAllowed(request('http://chat.example.com', 'chat.example.com'), policy)).toBe(false);
  });

  it('compares origins as browsers serialize them', () => {
    const spelled = originPolicy([], ['HTTPS://Chat.Example.com:443/']);
    expect(spelled.public).toEqual(['https://chat.example.com']);
    expect(isOriginAllowed(request('https://chat.example.com', 'x'), spelled)).toBe(true);
  });

  it('throws for a public origin that is not one', () => {
    expect(() => originPolicy([], ['chat.example.com'])).toThrow('not an origin: chat.example.com');
  });
});

describe('the allowlist', () => {
  it('lets in a listed origin and, with `*`, any', () => {
    const listed = originPolicy(['https://partner.example'], ['https://chat.example.com']);
    expect(isOriginAllowed(request('https://partner.example', 'chat.example.com'), listed)).toBe(true);
    expect(isOriginAllowed(request('https://other.example', 'chat.example.com'), listed)).toBe(false);
    expect(isOriginAllowed(request('http://evil.example:3000', 'evil.example:3000'), originPolicy(['*']))).toBe(true);
  });
});
