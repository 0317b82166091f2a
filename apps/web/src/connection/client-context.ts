import type { TetherClient } from '@tether/client';
import { createContext, useContext } from 'react';

/** The signed-in connection, for its status and "retry now"; procedures go through `useTRPC`. */
export const ClientContext = createContext<TetherClient | null>(null);

export function useTetherClient(): TetherClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useTetherClient needs <ClientContext.Provider>');
  return client;
}
