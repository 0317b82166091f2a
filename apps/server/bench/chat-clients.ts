import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createTetherClient, type TetherClient, type TetherClientOptions } from '@tether/client/node';

/** A stuck request fails the bench instead of hanging it; connecting is bounded the same way. */
const REQUEST_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 10_000;

export interface ChatRoom {
  readonly roomId: string;
  /** Signed-in connections, all members of the room. */
  readonly clients: readonly TetherClient[];
  /** Close codes of connections that dropped and reconnected: they would skew the figures. */
  readonly drops: readonly (number | null)[];
  send(client: TetherClient, body: string, idempotencyKey: string): Promise<void>;
  dispose(): Promise<void>;
}

function connect(url: string, getToken?: () => string): TetherClient {
  const options: TetherClientOptions = { url, clientName: 'tether-bench', requests: { timeoutMs: REQUEST_TIMEOUT_MS } };
  return createTetherClient(getToken ? { ...options, getToken } : options);
}

async function signUp(url: string, username: string): Promise<string> {
  const anonymous = connect(url);
  try {
    const session = await anonymous.trpc.auth.signUp.mutate({ username, password: 'correct horse battery staple' });
    return session.accessToken;
  } finally {
    await anonymous.dispose();
  }
}

/** Records each connected -> reconnecting transition's close code; returns the unsubscribe function. */
function watchDrops(client: TetherClient, drops: (number | null)[]): () => void {
  let previous = client.status.get().state;
  return client.status.subscribe((status) => {
    if (status.state === 'reconnecting' && previous !== 'reconnecting') drops.push(status.lastCloseCode);
    previous = status.state;
  });
}

/**
 * `users` users signed up, `connections` connections signed in as them in
 * turn (connection i as user i % users), and one public room every user has
 * joined: all the load lands on one room, as in a busy channel.
 */
export async function openChatRoom(url: string, options: { users: number; connections: number }): Promise<ChatRoom> {
  if (options.connections < options.users) throw new Error('need at least one connection per user');
  const run = randomBytes(4).toString('hex');
  const tokens = await Promise.all(
    Array.from({ length: options.users }, (_, user) => signUp(url, `bench-${run}-${user}`)),
  );
  const clients = Array.from({ length: options.connections }, (_, i) => {
    const token = tokens[i % options.users] ?? '';
    return connect(url, () => token);
  });
  const drops: (number | null)[] = [];
  const unwatch = clients.map((client) => watchDrops(client, drops));
  const dispose = async () => {
    for (const stop of unwatch) stop();
    await Promise.all(clients.map((client) => client.dispose()));
  };
  try {
    const signal = AbortSignal.timeout(CONNECT_TIMEOUT_MS);
    // One deadline shared by every connection: a listener each is expected, not a leak.
    setMaxListeners(clients.length + 1, signal);
    await Promise.all(clients.map((client) => client.status.waitFor('connected', { signal })));
    const [owner, ...members] = clients.slice(0, options.users);
    if (!owner) throw new Error('need at least one user');
    const room = await owner.trpc.rooms.create.mutate({ name: `bench-${run}`, visibility: 'public' });
    await Promise.all(members.map((member) => member.trpc.rooms.join.mutate({ roomId: room.id })));
    return {
      roomId: room.id,
      clients,
      drops,
      async send(client, body, idempotencyKey) {
        await client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey });
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
