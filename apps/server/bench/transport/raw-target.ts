import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { BenchChild } from './child';
import type { ClientPlan, Driver, MemorySample, RpcPlan, ServerUnderTest } from './target';

const RAW_SERVER = fileURLToPath(new URL('./raw-server.ts', import.meta.url));
const START_TIMEOUT_MS = 15_000;
const PROBE_TIMEOUT_MS = 10_000;

export interface RawTarget extends ServerUnderTest {
  /** The bytes each broadcast sends to each subscriber: a frame a Tether subscriber received. */
  setFrame(frame: Buffer): Promise<void>;
}

/**
 * The raw `ws` baseline (raw-server.ts) as a child process. It borrows from
 * the Tether target what makes the comparison like for like: the request
 * frames the RPC loop sends (echoed back, same size, same client) and the
 * marker of an event frame (it broadcasts a captured Tether frame).
 */
export async function startRaw(like: { rpc: RpcPlan; subscriber: ClientPlan }): Promise<RawTarget> {
  const child = new BenchChild('raw ws server', RAW_SERVER, ['--expose-gc']);
  try {
    const { port } = await child.next<{ type: 'listening'; port: number }>('listening', START_TIMEOUT_MS);
    const base = `ws://127.0.0.1:${port}`;
    const subscriber: ClientPlan = {
      url: `${base}/sub`,
      openFrames: [],
      readyMarker: null,
      eventMarker: like.subscriber.eventMarker,
    };
    return {
      label: 'raw ws',
      pid: child.pid,
      pids: [child.pid],
      rpc: { label: 'echo', url: `${base}/echo`, openFrames: [], request: like.rpc.request },
      subscriber,
      async setFrame(frame) {
        await child.request({ type: 'frame', base64: frame.toString('base64') }, 'frame-set', PROBE_TIMEOUT_MS);
      },
      async openDriver(): Promise<Driver> {
        const socket = new WebSocket(`${base}/driver`, { perMessageDeflate: false });
        await new Promise<void>((resolve, reject) => {
          socket.once('open', () => resolve());
          socket.once('error', reject);
        });
        return {
          async send(n) {
            socket.send(`{"trigger":${n}}`);
          },
          close: () => socket.close(1000),
        };
      },
      async memory(): Promise<MemorySample> {
        const reply = await child.request<{ type: 'memory'; heapUsedBytes: number; rssBytes: number }>(
          { type: 'memory' },
          'memory',
          PROBE_TIMEOUT_MS,
        );
        return { heapUsedBytes: reply.heapUsedBytes, rssBytes: reply.rssBytes };
      },
      warnings: () => [],
      stop: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
