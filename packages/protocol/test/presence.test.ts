import { describe, expect, it } from 'vitest';
import { applyPresenceUpdate, type Presence, presenceChanges } from '../src/index';

const roomId = '00000000-0000-4000-8000-000000000001';
const user = (n: number, username: string) => ({ id: `00000000-0000-4000-8000-00000000001${n}`, username });
const [ann, bob, cat] = [user(1, 'ann'), user(2, 'bob'), user(3, 'cat')];

describe('presence changes', () => {
  it('fold back into exactly the state they were taken from', () => {
    const before: Presence = { roomId, online: [ann, bob], typing: [bob] };
    const after: Presence = { roomId, online: [bob, cat], typing: [cat] };
    const changes = presenceChanges(before, after);
    expect(changes).toEqual({
      kind: 'changes',
      roomId,
      joined: [cat],
      left: [ann.id],
      typingStarted: [cat],
      typingStopped: [bob.id],
    });
    expect(changes && applyPresenceUpdate(before, changes)).toEqual(after);
    expect(presenceChanges(after, after)).toBeNull();
  });

  it('change nothing of another room than the one known', () => {
    const known: Presence = { roomId, online: [ann], typing: [] };
    const elsewhere = {
      kind: 'changes' as const,
      roomId: cat.id,
      joined: [bob],
      left: [],
      typingStarted: [],
      typingStopped: [],
    };
    expect(applyPresenceUpdate(known, elsewhere)).toBe(known);
  });
});
