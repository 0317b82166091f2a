import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AuthSession } from '@tether/protocol';
import { freePort, nginxBinary } from '@tether/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/scratch-database';
import { announceSkip, testEnv } from '../helpers/test-env';
import { clientFactory } from '../helpers/test-server';

const CLUSTER = fileURLToPath(new URL('../../cluster.mjs', import.meta.url));
const CLIENTS = 6;
const MESSAGES = 60;

const { databaseUrl } = testEnv;
const redisUrl = process.env.REDIS_URL;
const nginx = await nginxBinary();
const why =
  !databaseUrl || !redisUrl ? 'DATABASE_URL and REDIS_URL are both needed' : !nginx ? 'nginx is not installed' : null;
if (why) announceSkip('`pnpm cluster`: three nodes behind nginx', why);

interface Started {
  url: string;
  nodes: Array<{ url: string; pid: number }>;
}

describe.skipIf(why !== null)('`pnpm cluster`: three nodes behind nginx, round robin, no stickiness', () => {
  let cluster: ChildProcess | undefined;
  let database: ScratchDatabase | undefined;
  /** nginx's endpoint, once the cluster is up. */
  let wsUrl = '';
  const clients = clientFactory(() => wsUrl);
  afterAll(async () => {
    await clients.disposeAll();
    if (cluster && cluster.exitCode === null) {
      const exited = new Promise((resolve) => cluster?.once('exit', resolve));
      cluster.kill('SIGINT');
      await exited;
    }
    await database?.drop();
  });

  it('spreads clients over the nodes; a node killed under load: its clients resume on the others, nothing lost or repeated', async () => {
    if (!databaseUrl || !redisUrl) throw new Error('unreachable: skipped without DATABASE_URL and REDIS_URL');
    database = await createScratchDatabase(databaseUrl, 'tether_cluster_cmd');
    const port = await freePort();
    cluster = spawn(process.execPath, [CLUSTER, '--nodes', '3', '--port', String(port), '--node-ports-from', '0'], {
      env: { ...testEnv.processBase, DATABASE_URL: database.url, REDIS_URL: redisUrl, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = await new Promise<Started>((resolve, reject) => {
      createInterface({ input: cluster?.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (line.includes('"cluster.listening"')) resolve(JSON.parse(line) as Started);
      });
      cluster?.once('exit', (code) => reject(new Error(`pnpm cluster exited (${code})`)));
    });
    expect(started.nodes).toHaveLength(3);
    wsUrl = `${started.url.replace('http', 'ws')}/trpc`;
    const connect = (session?: AuthSession) => clients.on(wsUrl, session);

    const session = await connect().trpc.auth.signUp.mutate({
      username: `c-${randomBytes(3).toString('hex')}`,
      password: 'correct horse battery staple',
    });
    const writer = connect(session);
    const room = await writer.trpc.rooms.create.mutate({
      name: `lb-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const observers = Array.from({ length: CLIENTS }, () => observeRoom(connect(session), room.id, '0'));
    await Promise.all(observers.map((observer) => observer.live));

    // Round robin: every node holds some of the sockets (each node's own /metrics says how many).
    const connectionsOn = async (node: string) => {
      const metrics = await (await fetch(`${node}/metrics`)).text();
      return Number(/_connections\{transport="websocket"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    };
    const perNode = await Promise.all(started.nodes.map((node) => connectionsOn(node.url)));
    for (const count of perNode) expect(count).toBeGreaterThan(0);

    // Keyed sends, one at a time; a node dies a third of the way through.
    const victim = started.nodes[1] as { pid: number };
    for (let i = 0; i < MESSAGES; i += 1) {
      if (i === MESSAGES / 3) process.kill(victim.pid, 'SIGKILL');
      await writer.trpc.messages.send.mutate({ roomId: room.id, body: `m${i}`, idempotencyKey: `${room.id}:${i}` });
    }

    const auditor = observeRoom(connect(session), room.id, '0');
    await auditor.live;
    const bodies = auditor.events.flatMap((event) => (event.type === 'message.sent' ? [event.message.body] : []));
    // Every keyed send applied exactly once, whatever node it was retried on.
    expect(bodies).toEqual(Array.from({ length: MESSAGES }, (_, i) => `m${i}`));
    const finalSeq = auditor.events.at(-1)?.seq ?? 0;
    await Promise.all(observers.map((observer) => observer.untilSeq(finalSeq)));
    for (const observer of observers) {
      expect(gapsAndDuplicates(observer.events)).toEqual({ gaps: [], duplicates: [] });
      expect(observer.events.map((event) => event.seq)).toEqual(Array.from({ length: finalSeq }, (_, i) => i + 1));
    }
    console.info(
      `[figures] sockets per node before the kill: ${perNode.join(', ')}; ${CLIENTS} subscribers x ${finalSeq} events, 0 gaps, 0 duplicates`,
    );
  }, 60_000);
});
