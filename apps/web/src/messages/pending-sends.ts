import { fullJitterBackoff, type TetherClient } from '@tether/client';
import type { Message } from '@tether/protocol';
import { describeError, serverAnswered, serverUnavailable } from '../errors';
import { randomKey } from '../random-key';
import type { PendingSend } from './timeline';

type Listener = () => void;

/** Backoff while the server says its database is unavailable: it may have applied the send, so the key goes again. */
const UNAVAILABLE_RETRY = { baseMs: 1_000, maxMs: 15_000 };
/** Then (half a minute or so) the send shows the server's reason and can be dismissed. */
const UNAVAILABLE_ATTEMPTS = 6;

/** One shared empty list: React compares snapshots by identity. */
const NONE: readonly PendingSend[] = [];

/**
 * Messages written but not yet confirmed, for every room, living as long as
 * the signed-in connection (not the room view), so switching rooms loses
 * nothing. Each send keeps the idempotency key chosen when it was written:
 * a send that failed because the connection was gone (or timed out while it
 * was) goes again with that key once connected, and the server applies it
 * exactly once; so does one the server could not store for now (its database
 * unavailable), after a backoff. A send the server refused stays, with its reason, until dismissed.
 */
export function createPendingSends(client: TetherClient) {
  let byRoom = new Map<string, PendingSend[]>();
  /** Each room's last delivery: a room's sends go one after another, so a resend never overtakes a later message. */
  const deliveries = new Map<string, Promise<void>>();
  const listeners = new Set<Listener>();
  const confirmedListeners = new Set<(message: Message) => void>();
  let disposed = false;

  const change = (roomId: string, edit: (list: PendingSend[]) => PendingSend[]) => {
    byRoom = new Map(byRoom).set(roomId, edit(byRoom.get(roomId) ?? []));
    for (const listener of [...listeners]) listener();
  };

  async function deliver(roomId: string, send: PendingSend): Promise<void> {
    for (let unavailable = 0; !disposed; ) {
      try {
        const message = await client.trpc.messages.send.mutate({ roomId, body: send.body, idempotencyKey: send.key });
        // Shown as a real message from here on: the pending entry goes in the same step.
        for (const listener of [...confirmedListeners]) listener(message);
        change(roomId, (list) => list.filter((s) => s.key !== send.key));
        return;
      } catch (error) {
        if (serverAnswered(error) || (serverUnavailable(error) && unavailable >= UNAVAILABLE_ATTEMPTS)) {
          change(roomId, (list) =>
            list.map((s) => (s.key === send.key ? { ...s, state: 'failed', error: describeError(error) } : s)),
          );
          return;
        }
        if (serverUnavailable(error)) {
          await new Promise((resume) => setTimeout(resume, fullJitterBackoff(unavailable++, UNAVAILABLE_RETRY)));
          continue;
        }
        // Not answered: wait for the connection, then send again with the same key.
        const closed = await client.status.waitFor('connected').then(
          () => false,
          () => true,
        );
        if (closed) return;
      }
    }
  }

  return {
    get: (roomId: string): readonly PendingSend[] => byRoom.get(roomId) ?? NONE,
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Confirmed messages, for the open room's timeline. */
    onConfirmed(listener: (message: Message) => void): () => void {
      confirmedListeners.add(listener);
      return () => confirmedListeners.delete(listener);
    },
    send(roomId: string, body: string, afterSeq: number): void {
      const send: PendingSend = { key: randomKey('web'), body, afterSeq, state: 'sending' };
      change(roomId, (list) => [...list, send]);
      const previous = deliveries.get(roomId) ?? Promise.resolve();
      const delivered = previous.then(() => deliver(roomId, send)).catch(() => {});
      deliveries.set(roomId, delivered);
      void delivered.then(() => {
        if (deliveries.get(roomId) === delivered) deliveries.delete(roomId);
      });
    },
    dismiss(roomId: string, key: string): void {
      change(roomId, (list) => list.filter((s) => s.key !== key));
    },
    dispose(): void {
      disposed = true;
    },
  };
}

export type PendingSends = ReturnType<typeof createPendingSends>;
