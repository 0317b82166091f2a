import { randomBytes } from 'node:crypto';
import type { AppRouter } from '@tether/protocol';
import type { TRPCClientError } from '@trpc/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientFactory, startTestServer, type TestServer } from './helpers/test-server';

const PER_MINUTE = 4;
const FAILURES = 2;
const PASSWORD = 'correct horse battery staple';

/**
 * A server for each limit: a tight rate per address; few failures per username and address; few per username
 * from anywhere, behind a "proxy" (the test itself, trusted to name the client in X-Forwarded-For).
 */
let perAddress: TestServer;
let perUsername: TestServer;
let fromAnywhere: TestServer;
const clients = clientFactory(() => perAddress.wsUrl);

beforeAll(async () => {
  [perAddress, perUsername, fromAnywhere] = await Promise.all([
    startTestServer({
      signIn: { perAddressPerMinute: PER_MINUTE, failuresPerUsernameAndAddress: 100, failuresPerUsername: 100 },
      trustedProxies: ['127.0.0.1'],
    }),
    startTestServer({
      signIn: { perAddressPerMinute: 1_000, failuresPerUsernameAndAddress: FAILURES, failuresPerUsername: 100 },
    }),
    startTestServer({
      signIn: { perAddressPerMinute: 1_000, failuresPerUsernameAndAddress: 100, failuresPerUsername: FAILURES },
      trustedProxies: ['127.0.0.1'],
    }),
  ]);
});
afterEach(() => clients.disposeAll());
afterAll(() => Promise.all([perAddress.dispose(), perUsername.dispose(), fromAnywhere.dispose()]));

/** A call over HTTP as if through a proxy from `client` (the servers above trust the test to say so). */
const viaProxy = (server: TestServer, path: string, input: unknown, client: string) =>
  fetch(`${server.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
    body: JSON.stringify({ json: input }),
  });

const username = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;
const refusal = (attempt: Promise<unknown>) =>
  attempt.then(
    () => expect.fail('the attempt was accepted'),
    (error: TRPCClientError<AppRouter>) => error,
  );

describe('sign-in limits', () => {
  it('refuses sign-ups and sign-ins from one address past its rate, saying when to retry', async () => {
    const client = clients.connect();
    const name = username('rate');
    await client.trpc.auth.signUp.mutate({ username: name, password: PASSWORD });
    for (let i = 1; i < PER_MINUTE; i += 1)
      await client.trpc.auth.signIn.mutate({ username: name, password: PASSWORD });
    // Another username from the same address: the address is what is counted.
    const refused = await refusal(client.trpc.auth.signUp.mutate({ username: username('other'), password: PASSWORD }));
    expect(refused.data?.code).toBe('TOO_MANY_REQUESTS');
    expect(refused.message).toMatch(/too many sign-in attempts from your address: try again in \d+ s/);
    expect(refused.data?.retryAfterMs).toBeGreaterThan(0);
    expect(refused.data?.retryAfterMs).toBeLessThanOrEqual(60_000);

    // Over HTTP the same limit answers 429 with Retry-After, as HTTP clients expect.
    const response = await fetch(`${perAddress.url}/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ json: { username: name, password: PASSWORD } }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses a username after repeated wrong passwords, even the right one, and spares other usernames', async () => {
    const client = clients.connect({ url: perUsername.wsUrl });
    const victim = username('victim');
    await client.trpc.auth.signUp.mutate({ username: victim, password: PASSWORD });
    for (let i = 0; i < FAILURES; i += 1) {
      const wrong = await refusal(client.trpc.auth.signIn.mutate({ username: victim, password: 'a wrong password' }));
      expect(wrong.data?.code).toBe('UNAUTHORIZED');
    }
    const locked = await refusal(client.trpc.auth.signIn.mutate({ username: victim, password: PASSWORD }));
    expect(locked.data?.code).toBe('TOO_MANY_REQUESTS');
    expect(locked.data?.retryAfterMs).toBeGreaterThan(0);
    // A username nobody has is counted alike, so the limit tells nothing of which names exist.
    const ghost = username('ghost');
    for (let i = 0; i < FAILURES; i += 1)
      await refusal(client.trpc.auth.signIn.mutate({ username: ghost, password: PASSWORD }));
    expect((await refusal(client.trpc.auth.signIn.mutate({ username: ghost, password: PASSWORD }))).data?.code).toBe(
      'TOO_MANY_REQUESTS',
    );
    // Someone else signs in as usual.
    const bystander = username('bystander');
    await client.trpc.auth.signUp.mutate({ username: bystander, password: PASSWORD });
    await expect(client.trpc.auth.signIn.mutate({ username: bystander, password: PASSWORD })).resolves.toMatchObject({
      user: { username: bystander },
    });
  });

  it('lets only as many concurrent guesses through as the limit allows', async () => {
    const client = clients.connect({ url: perUsername.wsUrl });
    const target = username('target');
    await client.trpc.auth.signUp.mutate({ username: target, password: PASSWORD });
    const guesses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        refusal(client.trpc.auth.signIn.mutate({ username: target, password: `wrong guess ${i}` })),
      ),
    );
    const codes = guesses.map((error) => error.data?.code);
    expect(codes.filter((code) => code === 'UNAUTHORIZED')).toHaveLength(FAILURES);
    expect(codes.filter((code) => code === 'TOO_MANY_REQUESTS')).toHaveLength(10 - FAILURES);
  });

  it('counts wrong passwords for one username over every address, at a higher ceiling', async () => {
    const target = username('wanted');
    expect(
      (await viaProxy(fromAnywhere, 'auth.signUp', { username: target, password: PASSWORD }, '198.51.100.1')).status,
    ).toBe(200);
    for (let i = 0; i < FAILURES; i += 1) {
      const wrong = await viaProxy(
        fromAnywhere,
        'auth.signIn',
        { username: target, password: 'a wrong password' },
        `198.51.100.${10 + i}`,
      );
      expect(wrong.status).toBe(401);
    }
    const refused = await viaProxy(
      fromAnywhere,
      'auth.signIn',
      { username: target, password: PASSWORD },
      '198.51.100.99',
    );
    expect(refused.status).toBe(429);
  });

  it('counts an IPv6 client by its /64, which one host holds whole', async () => {
    const attempt = (from: string) =>
      viaProxy(perAddress, 'auth.signUp', { username: username('v6'), password: PASSWORD }, from).then((r) => r.status);
    for (let i = 1; i <= PER_MINUTE; i += 1) expect(await attempt(`2001:db8:0:7::${i}`)).toBe(200);
    expect(await attempt('2001:db8:0:7:ffff:1:2:3')).toBe(429);
    expect(await attempt('2001:db8:0:8::1')).toBe(200);
  });
});
