import { useSyncExternalStore } from 'react';
import { createSessionStore } from './session-store';

/** The page's one session store. */
export const sessionStore = createSessionStore();

export function useSession() {
  return useSyncExternalStore(sessionStore.subscribe, sessionStore.get);
}
