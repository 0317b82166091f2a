import { readFileSync } from 'node:fs';
import type { Limits } from '@tether/server-core';

/**
 * Descriptors the server holds besides its connections: the store (a pool
 * of TETHER_DB_POOL_SIZE, or PGlite's files), Redis, logs, the listening
 * socket, and plain HTTP sockets opened and closed between them.
 */
export const FD_RESERVE = 512;

/** The open-file limits in the text of a Linux `/proc/<pid>/limits`; null when it has none. */
export function parseOpenFileLimits(text: string): { soft: number; hard: number } | null {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (!match?.[1] || !match[2]) return null;
  const value = (figure: string) => (figure === 'unlimited' ? Number.POSITIVE_INFINITY : Number(figure));
  return { soft: value(match[1]), hard: value(match[2]) };
}

/**
 * This process's open-file limit (Node raises the soft limit to the hard one
 * at start), from /proc on Linux; null where it cannot be read.
 */
export function openFileLimit(procLimits = '/proc/self/limits'): number | null {
  try {
    return parseOpenFileLimits(readFileSync(procLimits, 'utf8'))?.soft ?? null;
  } catch {
    return null;
  }
}

/**
 * What the limits let clients hold at once (every connection one descriptor)
 * beside the reserve, against the process's open-file limit: null when it
 * fits (or is unknown), else what to tell the operator.
 */
export function fdBudgetShortfall(
  limits: Pick<Limits, 'maxConnections'>,
  limit: number | null,
): { limit: number; needed: number } | null {
  const needed = limits.maxConnections + FD_RESERVE;
  return limit !== null && limit < needed ? { limit, needed } : null;
}
