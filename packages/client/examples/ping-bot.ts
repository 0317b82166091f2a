import { createTetherClient } from '@tether/client/node';

// Answers "!ping" in one room. Token: tether tokens create --name ping-bot --scope messages:read --scope messages:send --room ops
const { TETHER_URL = 'ws://127.0.0.1:3000/trpc', TETHER_TOKEN, TETHER_ROOM: roomId } = process.env;
if (!TETHER_TOKEN || !roomId) throw new Error('set TETHER_TOKEN and TETHER_ROOM (the room id)');
const client = createTetherClient({ url: TETHER_URL, getToken: () => TETHER_TOKEN, clientName: 'ping-bot' });

client.trpc.rooms.events.subscribe(
  { roomId },
  {
    onData: ({ data }) => {
      if (data.type === 'synced') return console.log(`ping-bot: listening in ${roomId}`);
      if (data.type !== 'message.sent' || data.message.body.trim() !== '!ping') return;
      // Keyed by the message it answers: a retry after a reconnect never answers twice.
      const reply = {
        roomId,
        body: `pong, ${data.message.author.username}`,
        idempotencyKey: `pong-${data.message.id}`,
      };
      client.trpc.messages.send.mutate(reply).catch((error) => console.error('ping-bot:', error.message));
    },
  },
);
