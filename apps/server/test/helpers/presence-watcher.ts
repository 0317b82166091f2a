import type { TetherClient } from '@tether/client';
import type { Presence } from '@tether/protocol';

/** Presence snapshots as they arrive; `until` resolves on the first one matching. */
export function watchPresence(client: TetherClient, roomId: string) {
  const seen: Presence[] = [];
  const waiters: Array<{ match: (p: Presence) => boolean; resolve: (p: Presence) => void }> = [];
  const subscription = client.trpc.rooms.presence.subscribe(
    { roomId },
    {
      onData: (presence) => {
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
