import { statfs } from 'node:fs/promises';
import { StoreError } from './store-errors';

/** How long one reading of the free space is trusted: writes resume within this of space returning. */
const READING_TTL_MS = 500;

export interface SpaceFloor {
  /** Rejects with StoreError('full') while `dir`'s filesystem has less than the floor available. */
  assertAbove(): Promise<void>;
}

/**
 * Refuses writes cleanly before the disk under `dir` is full, instead of
 * letting the engine meet ENOSPC mid-write. A floor of 0 disables the check.
 */
export function createSpaceFloor(dir: string, minFreeBytes: number): SpaceFloor {
  let availableBytes: number | null = null;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<number> | null = null;

  async function read(): Promise<number> {
    const stats = await statfs(dir);
    availableBytes = stats.bavail * stats.bsize;
    readAt = performance.now();
    return availableBytes;
  }

  /** The last reading while fresh; otherwise one statfs call shared by concurrent writers. */
  function available(): Promise<number> {
    if (availableBytes !== null && performance.now() - readAt < READING_TTL_MS) return Promise.resolve(availableBytes);
    if (!reading) reading = read().finally(() => (reading = null));
    return reading;
  }

  return {
    async assertAbove() {
      if (minFreeBytes <= 0) return;
      if ((await available()) < minFreeBytes) throw new StoreError('full');
    },
  };
}
