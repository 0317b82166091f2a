import type { Message } from '@tether/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTetherClient } from '../connection/client-context';
import { describeError, serverAnswered } from '../errors';
import { useTRPCClient } from '../trpc';
import type { PendingSend } from './timeline';

/**
 * Sends with an idempotency key chosen when the message is written. A send
 * that fails because the connection is gone (or timed out while it was) stays
 * pending and goes again, with the same key, once connected: the server
 * applies it exactly once. A send the server refused shows its reason.
 */
export function usePendingSends(roomId: string, onConfirmed: (message: Message) => void) {
  const api = useTRPCClient();
  const client = useTetherClient();
  const [pending, setPending] = useState<PendingSend[]>([]);
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  const update = useCallback((key: string, change: Partial<PendingSend>) => {
    setPending((list) => list.map((send) => (send.key === key ? { ...send, ...change } : send)));
  }, []);

  const deliver = useCallback(
    async (send: PendingSend) => {
      while (alive.current) {
        try {
          const message = await api.messages.send.mutate({ roomId, body: send.body, idempotencyKey: send.key });
          update(send.key, { messageId: message.id });
          onConfirmed(message);
          return;
        } catch (error) {
          if (serverAnswered(error)) {
            update(send.key, { state: 'failed', error: describeError(error) });
            return;
          }
          // Not answered: wait for the connection, then send again with the same key.
          const stopped = await client.status.waitFor('connected').then(
            () => false,
            () => true,
          );
          if (stopped) return;
        }
      }
    },
    [api, client, roomId, update, onConfirmed],
  );

  const send = useCallback(
    (body: string, afterSeq: number) => {
      const entry: PendingSend = { key: `web-${crypto.randomUUID()}`, body, afterSeq, state: 'sending' };
      setPending((list) => [...list, entry]);
      void deliver(entry);
    },
    [deliver],
  );
  const discard = useCallback((key: string) => setPending((list) => list.filter((s) => s.key !== key)), []);
  return { pending, send, discard };
}
