import type { Message } from '@tether/protocol';
import { describe, expect, it } from 'vitest';
import { applyLive, NO_CHANGES, type PendingSend, timeline, visiblePending } from './timeline';

const roomId = '0b5f9f43-5b43-4e55-9b7a-3b9f0e7f6d1a';
const me = { id: 'me', username: 'me' };
const other = { id: 'other', username: 'other' };
const message = (seq: number, body: string, author = other, editedAt: Date | null = null): Message => ({
  id: `m${seq}`,
  roomId,
  seq,
  author,
  body,
  createdAt: new Date(seq * 1000),
  editedAt,
});
const at = new Date();

describe('timeline', () => {
  it('merges history with live sends, edits and deletions, oldest first, each message once', () => {
    const pages = [{ messages: [message(3, 'three'), message(2, 'two')], nextBeforeSeq: null }];
    let live = NO_CHANGES;
    live = applyLive(live, { type: 'message.sent', seq: 3, message: message(3, 'three') });
    live = applyLive(live, { type: 'message.sent', seq: 4, message: message(4, 'four') });
    live = applyLive(live, {
      type: 'message.edited',
      seq: 5,
      message: message(2, 'two, edited', other, at),
    });
    live = applyLive(live, { type: 'message.deleted', roomId, seq: 6, at, messageId: 'm3', by: other });
    live = applyLive(live, { type: 'synced', roomId, seq: 6, at });
    expect(timeline(pages, live).map((m) => m.body)).toEqual(['two, edited', 'four']);
    expect(live).toMatchObject({ lastSeq: 6, synced: true });
  });

  it('holds back a live edit of a message older than the loaded pages until its page loads', () => {
    const pages = [{ messages: [message(10, 'ten')], nextBeforeSeq: 10 }];
    const live = applyLive(NO_CHANGES, {
      type: 'message.edited',
      seq: 11,
      message: message(2, 'old, edited', other, at),
    });
    expect(timeline(pages, live, true).map((m) => m.body)).toEqual(['ten']);
    const older = [...pages, { messages: [message(2, 'old')], nextBeforeSeq: null }];
    expect(timeline(older, live, false).map((m) => m.body)).toEqual(['old, edited', 'ten']);
  });
});

describe('pending sends', () => {
  const pending: PendingSend[] = [
    { key: 'a', body: 'hi', afterSeq: 4, state: 'sending' },
    { key: 'b', body: 'hi', afterSeq: 4, state: 'sending' },
  ];

  it('stay visible until their own message arrives, each arrival hiding one', () => {
    expect(visiblePending(pending, [message(4, 'hi', me)], me.id)).toHaveLength(2);
    expect(visiblePending(pending, [message(5, 'hi', me)], me.id).map((p) => p.key)).toEqual(['b']);
    expect(visiblePending(pending, [message(5, 'hi', me), message(6, 'hi', me)], me.id)).toEqual([]);
    expect(visiblePending(pending, [message(5, 'hi', other)], me.id)).toHaveLength(2);
  });

  it('keep failures on screen', () => {
    const failed: PendingSend = { key: 'd', body: 'y', afterSeq: 0, state: 'failed', error: 'too long' };
    expect(visiblePending([failed], [message(9, 'y', me)], me.id)).toEqual([failed]);
  });
});
