import { QueryClientProvider } from '@tanstack/react-query';
import { createTetherClient, type TetherClient } from '@tether/client';
import type { User } from '@tether/protocol';
import { useEffect, useState } from 'react';
import { ChatLayout } from './chat-layout';
import { ClientContext } from './connection/client-context';
import { ConnectionBanner } from './connection/connection-banner';
import { createPendingSends, type PendingSends } from './messages/pending-sends';
import { PendingSendsContext } from './messages/use-pending-sends';
import { createQueryClient } from './query-client';
import { AuthScreen } from './session/auth-screen';
import { sessionStore, useSession } from './session/use-session';
import { TRPCProvider, webSocketUrl } from './trpc';

export function App() {
  const session = useSession();
  if (!session) return <AuthScreen />;
  // Keyed by user: signing in as someone else starts from a fresh connection and cache.
  return <SignedIn key={session.user.id} user={session.user} />;
}

/** One WebSocket client and query cache for the signed-in user, disposed when they sign out. */
function SignedIn({ user }: { user: User }) {
  const [client, setClient] = useState<{ tether: TetherClient; pending: PendingSends } | null>(null);
  const [queryClient] = useState(createQueryClient);
  useEffect(() => {
    const created = createTetherClient({
      url: webSocketUrl(),
      clientName: 'tether-web',
      getToken: async ({ forceRefresh }) => sessionStore.accessToken(forceRefresh),
      // A message written offline stays pending for as long as it takes; the composer resends it with its key.
      requests: { timeoutMs: 60_000 },
    });
    const pending = createPendingSends(created);
    setClient({ tether: created, pending });
    return () => {
      pending.dispose();
      void created.dispose();
    };
  }, []);
  if (!client) return null;
  return (
    <ClientContext.Provider value={client.tether}>
      <PendingSendsContext.Provider value={client.pending}>
        <QueryClientProvider client={queryClient}>
          <TRPCProvider trpcClient={client.tether.trpc} queryClient={queryClient}>
            <ConnectionBanner client={client.tether} />
            <ChatLayout user={user} />
          </TRPCProvider>
        </QueryClientProvider>
      </PendingSendsContext.Provider>
    </ClientContext.Provider>
  );
}
