import type { Message } from '@tether/protocol';
import { createContext, useContext, useEffect, useSyncExternalStore } from 'react';
import type { PendingSends } from './pending-sends';

export const PendingSendsContext = createContext<PendingSends | null>(null);

/** One room's pending sends, and confirmed messages handed to `onConfirmed` as they arrive. */
export function usePendingSends(roomId: string, onConfirmed: (message: Message) => void) {
  const store = useContext(PendingSendsContext);
  if (!store) throw new Error('usePendingSends needs <PendingSendsContext.Provider>');
  const pending = useSyncExternalStore(store.subscribe, () => store.get(roomId));
  useEffect(
    () => store.onConfirmed((message) => message.roomId === roomId && onConfirmed(message)),
    [store, roomId, onConfirmed],
  );
  return {
    pending,
    send: (body: string, afterSeq: number) => store.send(roomId, body, afterSeq),
    discard: (key: string) => store.dismiss(roomId, key),
  };
}
