import { describe, expect, it } from 'vitest';
import { CloseCode, connectionParamsSchema, FATAL_CLOSE_CODES, LIMITS, roomEventSchema } from '../src/index';
import { credentialsSchema } from '../src/schemas/auth';
import { sendMessageInputSchema } from '../src/schemas/messages';
import { createRoomInputSchema } from '../src/schemas/rooms';

const issueMessages = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.error?.issues.map((issue) => issue.message) ?? [];

describe('schemas say what was expected', () => {
  it('explains the length and characters of a username and password', () => {
    const result = credentialsSchema.safeParse({ username: 'a b', password: 'short' });
    expect(issueMessages(result)).toEqual([
      'username may contain only letters, digits, ".", "_" and "-"',
      `password must be ${LIMITS.passwordMin}–${LIMITS.passwordMax} characters`,
    ]);
  });

  it('normalises names to lower case so they are unique regardless of case', () => {
    expect(credentialsSchema.parse({ username: '  Alice ', password: 'long enough' }).username).toBe('alice');
    expect(createRoomInputSchema.parse({ name: 'General' })).toEqual({ name: 'general', visibility: 'public' });
  });

  it('refuses blank or oversized message bodies', () => {
    const base = { roomId: '0b5f9f43-5b43-4e55-9b7a-3b9f0e7f6d1a', idempotencyKey: 'key-12345' };
    expect(issueMessages(sendMessageInputSchema.safeParse({ ...base, body: '   ' }))).toEqual([
      'body must not be blank',
    ]);
    expect(
      issueMessages(sendMessageInputSchema.safeParse({ ...base, body: 'x'.repeat(LIMITS.messageBodyMax + 1) })),
    ).toEqual([`body must be 1–${LIMITS.messageBodyMax} characters`]);
  });

  it('refuses bodies of only invisible characters, and keeps those that show something', () => {
    const base = { roomId: '0b5f9f43-5b43-4e55-9b7a-3b9f0e7f6d1a', idempotencyKey: 'key-12345' };
    for (const body of ['\u200b', '\u200b\u200c\u200d\u2060', '\ufeff \u00ad', '\u2800\u3164']) {
      expect(issueMessages(sendMessageInputSchema.safeParse({ ...base, body }))).toEqual(['body must not be blank']);
    }
    for (const body of ['a\u200b', '👍🏽', '\u200dx', '·']) {
      expect(sendMessageInputSchema.safeParse({ ...base, body }).success).toBe(true);
    }
  });

  it('reads connectionParams as strings, the way tRPC carries them', () => {
    expect(connectionParamsSchema.parse({ protocolVersion: '2', token: 't' })).toEqual({
      protocolVersion: 2,
      token: 't',
    });
    expect(connectionParamsSchema.safeParse({ protocolVersion: 'one' }).success).toBe(false);
  });

  it('tells room events apart by type', () => {
    const at = new Date();
    const parsed = roomEventSchema.parse({
      type: 'member.joined',
      roomId: '0b5f9f43-5b43-4e55-9b7a-3b9f0e7f6d1a',
      seq: 1,
      at,
      member: { id: '0b5f9f43-5b43-4e55-9b7a-3b9f0e7f6d1b', username: 'alice' },
    });
    expect(parsed.type).toBe('member.joined');
  });
});

describe('close codes', () => {
  it('are distinct, and only normal close and upgrade-required are fatal', () => {
    const codes = Object.values(CloseCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...FATAL_CLOSE_CODES].sort()).toEqual([CloseCode.Normal, CloseCode.UpgradeRequired]);
  });
});
