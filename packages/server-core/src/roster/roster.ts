/**
 * What each server process holds of a scope (say, who has a room open on
 * it), and the union over every live process. Ephemeral: nothing of it is
 * stored, and what a process held goes with it. The process's own state stays
 * the truth; the roster is how the others see it.
 */
export interface Roster {
  /** Replaces what this process holds in `scope`; null takes it back. Kept for as long as this process lives. */
  put(scope: string, value: unknown): Promise<void>;
  /** What every live process holds in `scope`, one value per process, in no particular order. */
  read(scope: string): Promise<unknown[]>;
  /** Takes back everything this process holds. */
  close(): Promise<void>;
}
