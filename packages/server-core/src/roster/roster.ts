/**
 * What each server process holds of a scope (say, who has a room open on
 * it), for the others to read. Ephemeral: nothing of it is stored, and what a
 * process held goes with it. The process's own state stays the truth; the
 * roster is how the others see it, so a process reads only theirs and adds
 * its own (which it has even when the roster cannot be reached).
 */
export interface Roster {
  /** Replaces what this process holds in `scope`; null takes it back. Kept for as long as this process lives. */
  put(scope: string, value: unknown): Promise<void>;
  /** What every other live process holds in `scope`, one value per process, in no particular order. */
  others(scope: string): Promise<unknown[]>;
  /** Takes back everything this process holds. */
  close(): Promise<void>;
}
