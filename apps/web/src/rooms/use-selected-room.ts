import { useCallback, useSyncExternalStore } from 'react';

const PREFIX = '#/rooms/';

/** The open room lives in the URL hash, so a reload (or a shared link) opens it again. */
export function useSelectedRoom(): [string | null, (roomId: string | null) => void] {
  const hash = useSyncExternalStore(
    (notify) => {
      addEventListener('hashchange', notify);
      return () => removeEventListener('hashchange', notify);
    },
    () => location.hash,
  );
  const select = useCallback((roomId: string | null) => {
    location.hash = roomId ? `${PREFIX}${roomId}` : '';
  }, []);
  return [hash.startsWith(PREFIX) ? hash.slice(PREFIX.length) : null, select];
}
