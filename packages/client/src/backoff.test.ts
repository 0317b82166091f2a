import { describe, expect, it } from 'vitest';
import { fullJitterBackoff } from './backoff';

describe('fullJitterBackoff', () => {
  const retry = { baseMs: 500, maxMs: 30_000 };

  it('draws uniformly from zero up to a ceiling that doubles per attempt', () => {
    expect(fullJitterBackoff(0, retry, () => 0)).toBe(0);
    expect(fullJitterBackoff(0, retry, () => 0.999_999)).toBe(499);
    expect(fullJitterBackoff(3, retry, () => 0.5)).toBe(2_000);
  });

  it('never exceeds the maximum, however many attempts', () => {
    expect(fullJitterBackoff(40, retry, () => 0.999_999)).toBe(29_999);
    expect(fullJitterBackoff(1_000, retry, () => 0.5)).toBe(15_000);
  });

  it('spreads real random draws over the whole window', () => {
    const draws = Array.from({ length: 2_000 }, () => fullJitterBackoff(4, retry));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(8_000);
    // Uniform over [0, 8000): each quarter holds about 500 of 2000 draws.
    const quarters = [0, 1, 2, 3].map((q) => draws.filter((d) => Math.floor(d / 2_000) === q).length);
    for (const count of quarters) expect(count).toBeGreaterThan(350);
  });
});
