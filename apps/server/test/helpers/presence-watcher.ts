import type { TetherClient } from '@tether/client';
import { applyPresenceUpdate, type Presence } from '@tether/protocol';

/**
 * What a client knows of a room's presence after each update (a snapshot, or
 * changes folded into what it knew); `until` resolves on the first state matching.
 */
export function watchPresence(client: TetherClient, roomId: string) {
  const seen: Presence[] = [];
  const waiters: Array<{ match: (p: Presence) => boolean; resolve: (p: Presence) => void }> = [];
  const subscription = client.trpc.rooms.presence.subscribe(
    { roomId },
    {
      onData: (update) => {
        const presence = applyPresenceUpdate(seen.at(-1) ?? null, update);
        seen.push(presence);
        for (const waiter of waiters.filter((w) => w.match(presence))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(presence);
        }
      },
    },
  );
  return {
    until(match: (p: Presence) => boolean): Promise<Presence> {
      const latest = seen.at(-1);
      if (latest && match(latest)) return Promise.resolve(latest);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    stop: () => subscription.unsubscribe(),
  };
}
