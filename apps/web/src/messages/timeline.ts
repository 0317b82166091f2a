import type { Message, MessagePage, RoomStreamItem } from '@tether/protocol';

/** What live events have changed since the history was loaded. */
export interface LiveChanges {
  upserts: ReadonlyMap<string, Message>;
  deleted: ReadonlySet<string>;
  /** Newest seq seen live (any event type). */
  lastSeq: number;
  /** The server reported the subscription caught up. */
  synced: boolean;
}

export const NO_CHANGES: LiveChanges = { upserts: new Map(), deleted: new Set(), lastSeq: 0, synced: false };

/** Folds one subscription item (or a confirmed send) into the live changes. */
export function applyLive(
  state: LiveChanges,
  item: RoomStreamItem | { type: 'confirmed'; message: Message } | { type: 'reset' },
): LiveChanges {
  if (item.type === 'reset') return NO_CHANGES;
  const lastSeq = 'seq' in item ? Math.max(state.lastSeq, item.seq) : state.lastSeq;
  switch (item.type) {
    case 'message.sent':
    case 'message.edited':
    case 'confirmed': {
      const current = state.upserts.get(item.message.id);
      // An older edit arriving after a newer one (replay overlap) must not win.
      if (current?.editedAt && item.message.editedAt && current.editedAt > item.message.editedAt) {
        return { ...state, lastSeq };
      }
      return { ...state, upserts: new Map(state.upserts).set(item.message.id, item.message), lastSeq };
    }
    case 'message.deleted':
      return { ...state, deleted: new Set(state.deleted).add(item.messageId), lastSeq };
    case 'synced':
      return { ...state, synced: true, lastSeq };
    default:
      return { ...state, lastSeq };
  }
}

/**
 * History pages (newest first) overlaid with live changes, oldest first for
 * display. While older pages are still unloaded, a live change to a message
 * older than the oldest loaded one waits for its page, rather than showing
 * above the history with a gap under it.
 */
export function timeline(pages: readonly MessagePage[], live: LiveChanges, hasOlder = false): Message[] {
  const byId = new Map<string, Message>();
  for (const page of pages) for (const message of page.messages) byId.set(message.id, message);
  const oldestLoaded = pages.at(-1)?.messages.at(-1)?.seq ?? 0;
  for (const [id, message] of live.upserts) {
    if (hasOlder && message.seq < oldestLoaded && !byId.has(id)) continue;
    const known = byId.get(id);
    if (!known || (message.editedAt ?? message.createdAt) >= (known.editedAt ?? known.createdAt)) byId.set(id, message);
  }
  for (const id of live.deleted) byId.delete(id);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** A message the user sent that the server has not confirmed (or refused). */
export interface PendingSend {
  key: string;
  body: string;
  /** The room's newest seq when it was written: its confirmation comes after. */
  afterSeq: number;
  state: 'sending' | 'failed';
  error?: string;
}

/**
 * The pending sends still to show. A send leaves the pending list when its
 * call returns; while the call is still out, the live event of the user's own
 * message with the same body, written after it, hides it (each such message
 * hides one send), so a message never shows twice.
 */
export function visiblePending(
  pending: readonly PendingSend[],
  messages: readonly Message[],
  userId: string,
): PendingSend[] {
  const unclaimed = messages.filter((m) => m.author.id === userId);
  const claimed = new Set<string>();
  return pending.filter((send) => {
    if (send.state === 'failed') return true;
    const match = unclaimed.find((m) => !claimed.has(m.id) && m.body === send.body && m.seq > send.afterSeq);
    if (!match) return true;
    claimed.add(match.id);
    return false;
  });
}
