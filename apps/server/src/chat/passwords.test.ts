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
    const hash = await passwords.hash('correct horse battery staple');
    const alice = async () => ({ hash, found: 'alice' });
    expect(await passwords.check('correct horse battery staple', alice)).toBe('alice');
    expect(await passwords.check('wrong horse', alice)).toBeUndefined();
    expect(await passwords.check('correct horse battery staple', async () => undefined)).toBeUndefined();
  });

  it('refuses past its waiting room, saying when to come back, before looking anyone up', async () => {
    let refused = 0;
    const passwords = open({ atOnce: 1, waiting: 2 }, () => {
      refused += 1;
    });
    const lookups: string[] = [];
    const attempt = (name: string) =>
      passwords.check('a password', async () => {
        lookups.push(name);
        return undefined;
      });
    // One hashing, two waiting: the fourth is refused at once, and so is the door's question.
    const admitted = [attempt('a'), attempt('b'), attempt('c')];
    await expect(attempt('d')).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      cause: { retryAfterMs: expect.any(Number) },
    });
    expect(passwords.busy()?.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(refused).toBe(2);
    await Promise.all(admitted);
    expect(lookups).toEqual(['a', 'b', 'c']);
    expect(passwords.busy()).toBeNull();
  });
});
