import { afterEach, describe, expect, it } from 'vitest';
import { createPasswordHasher, type PasswordHasher } from './passwords';

const hashers: PasswordHasher[] = [];
afterEach(async () => {
  await Promise.all(hashers.splice(0).map((hasher) => hasher.close()));
});
const open = (...args: Parameters<typeof createPasswordHasher>) => {
  const hasher = createPasswordHasher(...args);
  hashers.push(hasher);
  return hasher;
};

describe('the password hasher', () => {
  it('gives back who signs in when the password is right, and nobody when it is wrong or nobody is there', async () => {
    const passwords = open({ atOnce: 1, waiting: 10 });
    const alice = { hash: await passwords.hash('correct horse battery staple'), found: 'alice' };
    expect(await passwords.check('correct horse battery staple', alice)).toBe('alice');
    expect(await passwords.check('wrong horse', alice)).toBeUndefined();
    expect(await passwords.check('correct horse battery staple', undefined)).toBeUndefined();
  });

  it('refuses past its waiting room, saying when to come back, and takes work again once it has room', async () => {
    let refused = 0;
    const passwords = open({ atOnce: 1, waiting: 2 }, () => {
      refused += 1;
    });
    // One hashing, two waiting: the fourth is refused at once.
    const admitted = [passwords.hash('a'), passwords.hash('b'), passwords.hash('c')];
    expect(passwords.busy()?.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(refused).toBe(0);
    await expect(passwords.hash('d')).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      cause: { retryAfterMs: expect.any(Number) },
    });
    expect(() => passwords.refuseIfBusy()).toThrow(/busy checking passwords: try again in \d+ s/);
    expect(refused).toBe(2);
    expect(await Promise.all(admitted)).toHaveLength(3);
    expect(passwords.busy()).toBeNull();
  });

  it('fails the work still waiting when closed, rather than leaving it waiting forever', async () => {
    const passwords = open({ atOnce: 1, waiting: 10 });
    const first = passwords.hash('first');
    const second = passwords.hash('second');
    await passwords.close();
    await expect(first).rejects.toThrow();
    await expect(second).rejects.toThrow(/closed/);
  });
});
