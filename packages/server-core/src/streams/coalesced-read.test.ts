import { describe, expect, it } from 'vitest';
import { coalescedRead } from './coalesced-read';

/** A read the test finishes by hand, recording when each started. */
function manualReads() {
  const started: Array<{ key: string; finish(value: number): void; fail(error: Error): void }> = [];
  const read = (key: string) =>
    new Promise<number>((resolve, reject) => {
      started.push({ key, finish: resolve, fail: reject });
    });
  return { read, started };
}

describe('coalescedRead', () => {
  it('gives callers who came during a read the next read, shared, never the one under way', async () => {
    const { read, started } = manualReads();
    const get = coalescedRead(read);
    const first = get('room');
    const second = get('room');
    const third = get('room');
    expect(started).toHaveLength(1);
    started[0]?.finish(1);
    expect(await first).toBe(1);
    await Promise.resolve();
    expect(started).toHaveLength(2);
    started[1]?.finish(2);
    expect(await second).toBe(2);
    expect(await third).toBe(2);
  });

  it('keeps keys apart, reads again once idle, and passes a failure to the callers of that read only', async () => {
    const { read, started } = manualReads();
    const get = coalescedRead(read);
    const a = get('a');
    const b = get('b');
    expect(started.map((s) => s.key)).toEqual(['a', 'b']);
    started[0]?.fail(new Error('store down'));
    started[1]?.finish(7);
    await expect(a).rejects.toThrow('store down');
    expect(await b).toBe(7);
    const again = get('a');
    expect(started).toHaveLength(3);
    started[2]?.finish(3);
    expect(await again).toBe(3);
  });
});
