import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FD_RESERVE, fdBudgetShortfall, openFileLimit } from './fd-budget';

describe('the file-descriptor budget', () => {
  it("reads this process's open-file limit", () => {
    const limit = openFileLimit();
    if (process.platform === 'linux') expect(limit).toBeGreaterThan(0);
    const file = join(tmpdir(), `limits-${process.pid}`);
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n',
    );
    expect(openFileLimit(file)).toBe(1024);
    expect(openFileLimit(join(tmpdir(), 'no-such-file'))).toBeNull();
  });

  it('is short when every allowed connection and the reserve do not fit', () => {
    expect(fdBudgetShortfall({ maxConnections: 10_000 }, 1024)).toEqual({ limit: 1024, needed: 10_000 + FD_RESERVE });
    expect(fdBudgetShortfall({ maxConnections: 10_000 }, 20_000)).toBeNull();
    expect(fdBudgetShortfall({ maxConnections: 10_000 }, null)).toBeNull();
  });
});
