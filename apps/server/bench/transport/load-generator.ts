/**
 * A load-generator process (forked by load-fleet.ts): holds many sockets of
 * one ClientPlan from a few source addresses, counts the event frames each
 * receives and when, and answers the server's PING. Its work per frame is a
 * byte search, the same whatever the server, so the client's cost is the same
 * on both sides of a ratio.
 *
 * IPC in:  open { plan, count, localAddresses, concurrency, deadlineMs, captureFrame }
 *          await { total, deadlineMs }   (every socket has received `total` events)
 *          cpu | close
 * IPC out: hello, opened, delivered, cpu, closed; frame { base64 } (the first
 *          event frame, once, when captureFrame).
 */
import { WebSocket } from 'ws';
import { type ClientPlan, MAX_TIMED_EVENTS, wallNow } from './target';

export type OpenCommand = {
  type: 'open';
  plan: ClientPlan;
  count: number;
  /** Socket i connects from localAddresses[i % length]. */
  localAddresses: string[];
  /** Handshakes in flight at once: more would overflow the server's accept backlog (511). */
  concurrency: number;
  deadlineMs: number;
  captureFrame: boolean;
};

export interface Opened {
  type: 'opened';
  ready: number;
  failed: number;
  /** The first few reasons sockets failed. */
  errors: string[];
}

export interface Delivered {
  type: 'delivered';
  total: number;
  /** Ready sockets that have `total` events. */
  reached: number;
  /** Ready sockets with fewer, and how many events they miss in all. */
  short: number;
  missing: number;
  /** Sockets with more than `total`: duplicates. */
  over: number;
  /** Ready sockets that closed since, by close code. */
  closeCodes: Record<string, number>;
  /** Each reached socket's receive time of its `total`-th event (wallNow ms). */
  times: number[];
  cpuMicros: number;
}

type Command =
  | OpenCommand
  | { type: 'await'; total: number; deadlineMs: number }
  | { type: 'cpu' }
  | { type: 'close'; deadlineMs: number };

const PING = Buffer.from('PING');

const send = (message: unknown) => process.send?.(message);
const cpuMicros = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

let sockets: WebSocket[] = [];
let ready = new Uint8Array(0);
let counts = new Int32Array(0);
let times = new Float64Array(0);
const closeCodes: Record<string, number> = {};
/** Sockets that became ready: the ones every await waits for. */
let readySockets = 0;
let pending: { total: number; reached: number; timer: NodeJS.Timeout } | null = null;

function open(command: OpenCommand): void {
  const { plan, count, localAddresses, concurrency } = command;
  const eventMarker = Buffer.from(plan.eventMarker);
  const readyMarker = plan.readyMarker === null ? null : Buffer.from(plan.readyMarker);
  sockets = new Array<WebSocket>(count);
  ready = new Uint8Array(count);
  counts = new Int32Array(count);
  times = new Float64Array(count * MAX_TIMED_EVENTS);
  let started = 0;
  let readyCount = 0;
  let failed = 0;
  let captured = !command.captureFrame;
  const errors: string[] = [];
  let finished = false;

  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    // Sockets still connecting at the deadline are failures.
    for (let i = 0; i < started; i++) {
      if (!ready[i]) sockets[i]?.terminate();
    }
    send({ type: 'opened', ready: readyCount, failed: count - readyCount, errors } satisfies Opened);
  };
  const deadline = setTimeout(() => {
    errors.push(`${count - readyCount - failed} not ready within ${command.deadlineMs} ms`);
    finish();
  }, command.deadlineMs);

  const markReady = (i: number) => {
    if (ready[i]) return;
    ready[i] = 1;
    readyCount += 1;
    readySockets += 1;
    launch();
  };

  const openOne = (i: number) => {
    const localAddress = localAddresses[i % localAddresses.length];
    const url = plan.urls?.[i % plan.urls.length] ?? plan.url;
    const socket = new WebSocket(url, { localAddress, perMessageDeflate: false });
    sockets[i] = socket;
    socket.on('open', () => {
      for (const frame of plan.openFrames) socket.send(frame);
      if (!readyMarker) markReady(i);
    });
    socket.on('message', (raw, isBinary) => {
      const data = raw as Buffer;
      if (!isBinary && data.length === 4 && data.equals(PING)) {
        socket.send('PONG');
        return;
      }
      if (data.includes(eventMarker)) {
        counts[i] = (counts[i] ?? 0) + 1;
        const n = counts[i] ?? 0;
        if (n <= MAX_TIMED_EVENTS) times[i * MAX_TIMED_EVENTS + n - 1] = wallNow();
        if (!captured) {
          captured = true;
          send({ type: 'frame', base64: data.toString('base64') });
        }
        if (pending && n === pending.total && ready[i]) {
          pending.reached += 1;
          settleIfComplete();
        }
        return;
      }
      if (readyMarker && !ready[i] && data.includes(readyMarker)) markReady(i);
    });
    socket.on('error', (error) => {
      if (!ready[i] && errors.length < 5) errors.push(error.message);
    });
    socket.on('close', (code) => {
      if (ready[i]) {
        closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      } else if (!finished) {
        failed += 1;
        if (errors.length < 5) errors.push(`closed ${code} before ready`);
        launch();
      }
    });
  };

  const launch = () => {
    if (finished) return;
    while (started < count && started - readyCount - failed < concurrency) openOne(started++);
    if (readyCount + failed === count) finish();
  };
  launch();
}

function report(total: number): Delivered {
  const reachedTimes: number[] = [];
  let short = 0;
  let missing = 0;
  let over = 0;
  for (let i = 0; i < counts.length; i++) {
    if (!ready[i]) continue;
    const n = counts[i] ?? 0;
    if (n < total) {
      short += 1;
      missing += total - n;
      continue;
    }
    if (n > total) over += 1;
    if (total >= 1 && total <= MAX_TIMED_EVENTS)
      reachedTimes.push(times[i * MAX_TIMED_EVENTS + total - 1] ?? Number.NaN);
  }
  return {
    type: 'delivered',
    total,
    reached: reachedTimes.length,
    short,
    missing,
    over,
    closeCodes,
    times: reachedTimes,
    cpuMicros: cpuMicros(),
  };
}

function settleIfComplete(): void {
  if (!pending || pending.reached < readySockets) return;
  clearTimeout(pending.timer);
  const { total } = pending;
  pending = null;
  send(report(total));
}

function awaitEvents(total: number, deadlineMs: number): void {
  if (pending) throw new Error('one await at a time');
  let reached = 0;
  for (let i = 0; i < counts.length; i++) if (ready[i] && (counts[i] ?? 0) >= total) reached += 1;
  const timer = setTimeout(() => {
    pending = null;
    send(report(total));
  }, deadlineMs);
  pending = { total, reached, timer };
  settleIfComplete();
}

function closeAll(deadlineMs: number): void {
  let open = 0;
  const done = () => {
    clearTimeout(timer);
    process.send?.({ type: 'closed' }, () => process.exit(0));
  };
  const timer = setTimeout(() => {
    for (const socket of sockets) socket?.terminate();
    done();
  }, deadlineMs);
  for (const socket of sockets) {
    if (!socket || socket.readyState === WebSocket.CLOSED) continue;
    open += 1;
    socket.once('close', () => {
      open -= 1;
      if (open === 0) done();
    });
    socket.close(1000);
  }
  if (open === 0) done();
}

process.on('message', (command: Command) => {
  if (command.type === 'open') open(command);
  else if (command.type === 'await') awaitEvents(command.total, command.deadlineMs);
  else if (command.type === 'cpu') send({ type: 'cpu', micros: cpuMicros() });
  else if (command.type === 'close') closeAll(command.deadlineMs);
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
send({ type: 'hello' });
