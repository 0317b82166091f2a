import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { BenchChild } from './child';
import type { Delivered, OpenCommand, Opened } from './load-generator';
import type { ClientPlan } from './target';

const LOAD_GENERATOR = fileURLToPath(new URL('./load-generator.ts', import.meta.url));
/** Sockets per load-generator process: well under its 20,000 descriptors. */
export const SOCKETS_PER_PROCESS = 10_000;
const HANDSHAKES_IN_FLIGHT = 256;
const HELLO_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * Sockets per source address. Linux's bind() to port 0 (what `localAddress`
 * does) scans for a free even port first; past ~7,000 sockets on one address
 * each bind costs milliseconds of kernel time, so addresses are kept well
 * under that.
 */
const SOCKETS_PER_ADDRESS = 4_000;

/**
 * Source addresses 127.R.0.2, 127.R.0.3, ... (all loopback), never reused in
 * a run; R is drawn per run, so a run does not bind among the ports the
 * previous run's sockets left in TIME_WAIT (60 s) either.
 */
const RUN_OCTET = 1 + randomInt(254);
let nextAddress = 0;
function nextSourceAddress(): string {
  const n = nextAddress++;
  if (n >= 250 * 250) throw new Error('out of loopback source addresses');
  return `127.${RUN_OCTET}.${Math.floor(n / 250)}.${(n % 250) + 2}`;
}

/** Every socket of the fleet and the event count it waited for. */
export interface Delivery {
  /** Every ready socket has the events. */
  complete: boolean;
  /** Ready sockets with fewer, and the events they miss. */
  short: number;
  missing: number;
  /** Sockets with more than the total: duplicates. */
  over: number;
  closeCodes: Record<string, number>;
  /** Each reached socket's receive time of the awaited event (wallNow ms). */
  times: number[];
  /** The latest of `times`: the last delivery. */
  lastAt: number;
  /** CPU time the load generators had used by then (summed), for the share of the window they were busy. */
  cpuMicros: number;
}

export interface Fleet {
  readonly size: number;
  readonly ready: number;
  readonly errors: readonly string[];
  /** From the first connect to every socket ready (subscribed, for Tether). */
  readonly connectMs: number;
  readonly processes: number;
  readonly sourceAddresses: number;
  /** The first event frame a socket received, byte for byte. */
  firstEventFrame(timeoutMs: number): Promise<Buffer>;
  /** CPU time the load generators have used so far (summed). */
  cpuMicros(): Promise<number>;
  /** Close codes of sockets that closed after they were ready: drops. */
  dropped(): Promise<Record<string, number>>;
  /** Waits until every ready socket has received `total` events, or the deadline. */
  awaitEvents(total: number, deadlineMs: number): Promise<Delivery>;
  close(): Promise<void>;
}

/** Opens `count` sockets of `plan`, spread over as many load-generator processes and source addresses as needed. */
export async function openFleet(
  plan: ClientPlan,
  count: number,
  options: { captureFrame?: boolean; deadlineMs: number },
): Promise<Fleet> {
  const processes = Math.max(1, Math.ceil(count / SOCKETS_PER_PROCESS));
  const children = Array.from(
    { length: processes },
    (_, i) => new BenchChild(`load generator ${i + 1}/${processes}`, LOAD_GENERATOR),
  );
  try {
    await Promise.all(children.map((child) => child.next('hello', HELLO_TIMEOUT_MS)));
    let resolveFrame: (frame: Buffer) => void = () => {};
    const frame = new Promise<Buffer>((resolve) => {
      resolveFrame = resolve;
    });
    children[0]?.on('frame', (message) => resolveFrame(Buffer.from(String(message.base64), 'base64')));

    let sourceAddresses = 0;
    const startedAt = performance.now();
    const opened = await Promise.all(
      children.map((child, i) => {
        const share = Math.floor(count / processes) + (i < count % processes ? 1 : 0);
        const localAddresses = Array.from({ length: Math.ceil(share / SOCKETS_PER_ADDRESS) }, nextSourceAddress);
        sourceAddresses += localAddresses.length;
        const command: OpenCommand = {
          type: 'open',
          plan,
          count: share,
          localAddresses,
          concurrency: HANDSHAKES_IN_FLIGHT,
          deadlineMs: options.deadlineMs,
          captureFrame: i === 0 && options.captureFrame === true,
        };
        return child.request<Opened>(command, 'opened', options.deadlineMs + 5_000);
      }),
    );
    const connectMs = performance.now() - startedAt;
    const awaitEvents = async (total: number, deadlineMs: number): Promise<Delivery> => {
      const replies = await Promise.all(
        children.map((child) =>
          child.request<Delivered>({ type: 'await', total, deadlineMs }, 'delivered', deadlineMs + 5_000),
        ),
      );
      const closeCodes: Record<string, number> = {};
      for (const reply of replies) {
        for (const [code, n] of Object.entries(reply.closeCodes)) closeCodes[code] = (closeCodes[code] ?? 0) + n;
      }
      const times = replies.flatMap((r) => r.times);
      let lastAt = Number.NEGATIVE_INFINITY;
      for (const t of times) if (t > lastAt) lastAt = t;
      return {
        complete: replies.every((r) => r.short === 0),
        short: replies.reduce((sum, r) => sum + r.short, 0),
        missing: replies.reduce((sum, r) => sum + r.missing, 0),
        over: replies.reduce((sum, r) => sum + r.over, 0),
        closeCodes,
        times,
        lastAt,
        cpuMicros: replies.reduce((sum, r) => sum + r.cpuMicros, 0),
      };
    };

    return {
      size: count,
      ready: opened.reduce((sum, o) => sum + o.ready, 0),
      errors: opened.flatMap((o) => o.errors),
      connectMs,
      processes,
      sourceAddresses,
      async firstEventFrame(timeoutMs) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no event frame within ${timeoutMs} ms`)), timeoutMs);
        });
        try {
          return await Promise.race([frame, timeout]);
        } finally {
          clearTimeout(timer);
        }
      },
      async cpuMicros() {
        const replies = await Promise.all(
          children.map((child) => child.request<{ type: 'cpu'; micros: number }>({ type: 'cpu' }, 'cpu', 5_000)),
        );
        return replies.reduce((sum, r) => sum + r.micros, 0);
      },
      async dropped() {
        // Every socket has at least 0 events: answered at once.
        return (await awaitEvents(0, 5_000)).closeCodes;
      },
      awaitEvents,
      async close() {
        await Promise.all(
          children.map(async (child) => {
            await child.request({ type: 'close', deadlineMs: CLOSE_TIMEOUT_MS }, 'closed', CLOSE_TIMEOUT_MS + 5_000);
            await child.stop();
          }),
        );
      },
    };
  } catch (error) {
    await Promise.all(children.map((child) => child.stop()));
    throw error;
  }
}
