import { randomBytes } from 'node:crypto';
import type { CreatedToken, Room } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, freshConfigHome, lines, tether } from './helpers';

let server: ServerProcess;
beforeAll(async () => {
  // A server of its own: the first person to sign up is its admin.
  server = await spawnServer();
});
afterAll(() => killAllServers());

async function signUp(prefix: string) {
  const env = cliEnv(server.url, await freshConfigHome());
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  expect((await tether(['login', name, '--new'], env, 'a long password\n')).code).toBe(0);
  return (args: string[], extraEnv: Record<string, string> = {}) => tether(args, { ...env, ...extraEnv });
}

describe('tether tokens', () => {
  it('lets an admin create a scoped service token that can do only what it allows, until revoked', async () => {
    const admin = await signUp('admin');
    const person = await signUp('person');
    const roomName = `ops${randomBytes(3).toString('hex')}`;
    expect((await admin(['rooms', 'create', roomName])).code).toBe(0);
    const room = (lines((await admin(['--json', 'rooms', 'ls'])).stdout)[0] as Room[]).find(
      (r) => r.name === roomName,
    ) as Room;

    const botName = `deploy-bot-${randomBytes(2).toString('hex')}`;
    expect((await person(['tokens', 'create', '--name', 'nope-bot', '--scope', 'messages:send'])).code).toBe(3);
    const created = await admin([
      '--json',
      'tokens',
      'create',
      '--name',
      botName,
      '--scope',
      'messages:send',
      '--room',
      roomName,
    ]);
    expect(created.code).toBe(0);
    const token = lines(created.stdout)[0] as CreatedToken;
    expect(token).toMatchObject({ name: botName, scopes: ['messages:send'], roomIds: [room.id] });

    const asBot = { TETHER_TOKEN: token.token };
    const sent = await person(['send', room.id, 'deployed v42'], asBot);
    expect(sent.code).toBe(0);
    // Outside its scope (reading), or anything only people do: refused with exit 3.
    expect((await person(['history', room.id], asBot)).code).toBe(3);
    expect((await person(['whoami'], asBot)).code).toBe(3);
    const history = (await admin(['history', roomName])).stdout;
    expect(history).toContain(`${botName}: deployed v42`);

    expect((await admin(['tokens', 'revoke', token.id])).code).toBe(0);
    const revoked = await person(['send', room.id, 'after revoke'], asBot);
    expect(revoked.code).toBe(3);
    const listed = lines((await admin(['--json', 'tokens', 'ls'])).stdout)[0] as {
      id: string;
      revokedAt: string | null;
    }[];
    expect(listed.find((t) => t.id === token.id)?.revokedAt).not.toBeNull();
  });
});
