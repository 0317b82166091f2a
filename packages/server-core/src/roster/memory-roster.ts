import type { Roster } from './roster';

/** The roster of a single process: what it holds is all there is. */
export function createMemoryRoster(): Roster {
  const held = new Map<string, unknown>();
  return {
    async put(scope, value) {
      if (value === null) held.delete(scope);
      else held.set(scope, value);
    },
    async read(scope) {
      return held.has(scope) ? [held.get(scope)] : [];
    },
    async close() {
      held.clear();
    },
  };
}
