import { afterEach, describe, expect, it } from 'vitest';
import { openPglite, type PgliteHandle } from './pglite-instance';
import { StoreError } from './store-errors';

describe('PGlite in its worker thread', () => {
  const opened: PgliteHandle[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((handle) => handle.close()));
  });

  it('fails a statement whose parameter cannot cross to the thread, and only that statement', async () => {
    const db = await openPglite(undefined, 10_000);
    opened.push(db);
    await expect(db.query('SELECT $1::text AS value', [() => 'not data'])).rejects.toThrow(/could not be cloned/);
    expect(await db.query('SELECT $1::text AS value', ['data'])).toEqual([{ value: 'data' }]);
    expect(db.dead).toBe(false);
  });

  it('ends the thread when a statement does not return in time, failing what was waiting', async () => {
    // pg_sleep stands in for a statement that never returns (PGlite spinning after a PANIC, see the disk-full fault tests).
    const db = await openPglite(undefined, 300);
    opened.push(db);
    const stuck = db.query('SELECT pg_sleep(5)');
    await expect(stuck).rejects.toBeInstanceOf(StoreError);
    await expect(stuck).rejects.toMatchObject({ failure: 'timeout' });
    expect(db.dead).toBe(true);
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ failure: 'unavailable' });
  });
});
