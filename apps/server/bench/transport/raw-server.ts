/**
 * The baseline server, run as a child process (raw-target.ts forks it with
 * --expose-gc): plain `ws` on 127.0.0.1, no tRPC, no protocol.
 *
 * - `/echo`: every message is sent back as it came.
 * - `/sub`: the socket joins the broadcast set and otherwise stays idle.
 * - `/driver`: each message it sends makes the server loop
 *   `for (client of clients) client.send(frameBytes)` over the broadcast set,
 *   where frameBytes is the captured Tether event frame, sent as text as
 *   Tether sends it.
 *
 * IPC: `{ type: 'frame', base64 }` sets frameBytes; `{ type: 'memory' }`
 * answers the heap after two full GCs and the RSS.
 */
import { type WebSocket, WebSocketServer } from 'ws';

type Command = { type: 'frame'; base64: string } | { type: 'memory' };

const send = (message: unknown) => process.send?.(message);
const clients = new Set<WebSocket>();
let frameBytes = Buffer.alloc(0);

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

wss.on('connection', (socket, req) => {
  socket.on('error', () => {});
  const path = req.url ?? '/';
  if (path.startsWith('/echo')) {
    socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
  } else if (path.startsWith('/driver')) {
    socket.on('message', () => {
      for (const client of clients) client.send(frameBytes, { binary: false });
    });
  } else {
    clients.add(socket);
    socket.once('close', () => clients.delete(socket));
  }
});

wss.once('listening', () => {
  const address = wss.address();
  if (!address || typeof address === 'string') throw new Error('expected a TCP address');
  send({ type: 'listening', port: address.port });
});

process.on('message', (command: Command) => {
  if (command.type === 'frame') {
    frameBytes = Buffer.from(command.base64, 'base64');
    send({ type: 'frame-set', bytes: frameBytes.length });
  } else if (command.type === 'memory') {
    const collect = globalThis.gc;
    if (!collect) throw new Error('raw server needs --expose-gc');
    collect();
    collect();
    const usage = process.memoryUsage();
    send({ type: 'memory', heapUsedBytes: usage.heapUsed, rssBytes: usage.rss });
  }
});

// The parent going away (it ended or crashed) ends this process too.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
