/**
 * What the measurements need from a server under test, Tether's or the raw
 * `ws` baseline's. Plain data where it crosses to the load-generator
 * processes (over IPC), so each process can rebuild its sockets from it.
 */

/** How a load generator's sockets talk to the server. */
export interface ClientPlan {
  url: string;
  /** Several server processes: socket i connects to urls[i % length] instead of `url` (round-robin). */
  urls?: string[];
  /** Frames each socket sends once open, in order (a handshake, a subscribe). */
  openFrames: string[];
  /** A socket is ready when a frame containing this arrives; null: as soon as it is open. */
  readyMarker: string | null;
  /** Frames containing this are the events the fan-out counts. */
  eventMarker: string;
}

/** The RPC loop's wire: one socket, frames sent first, then requests answered by id. */
export interface RpcPlan {
  /** What is called, for the report: a procedure's path, or 'echo'. */
  label: string;
  url: string;
  openFrames: string[];
  /** Request `id`'s frame; the answer is the frame whose JSON `id` is `id`. */
  request(id: number): string;
}

/** Makes the server emit one event to every subscriber. */
export interface Driver {
  /** Sends event `n`; resolves once the server has acknowledged it (Tether) or it is written (raw). */
  send(n: number): Promise<void>;
  close(): void;
}

export interface MemorySample {
  /** After a forced full GC. */
  heapUsedBytes: number;
  rssBytes: number;
}

export interface ServerUnderTest {
  /** 'tether' or 'raw ws': how report lines name it. */
  readonly label: string;
  /** The process the driver, RPC loop and memory probe talk to. */
  readonly pid: number;
  /** Every server process (only `pid` but for a cluster): whose CPU time a burst counts. */
  readonly pids: readonly number[];
  readonly rpc: RpcPlan;
  /** Sockets subscribed to the one room (Tether) or held by the broadcast loop (raw); idle ones are the memory figures'. */
  readonly subscriber: ClientPlan;
  openDriver(): Promise<Driver>;
  memory(): Promise<MemorySample>;
  /** What the server logged at warn or error so far: surprises the figures must not hide. */
  warnings(): string[];
  /** Graceful stop; resolves once the process has exited. */
  stop(): Promise<void>;
}

/**
 * Receive times a load generator keeps per socket (8 bytes each); events
 * past this are counted, not timed, so a fleet's run sends at most this many.
 */
export const MAX_TIMED_EVENTS = 512;

/** Size of a chat event's message body. */
export const BODY_BYTES = 200;

/** Event `n`'s body: the number keeps bodies distinct, as real ones are. */
export function eventBody(n: number): string {
  return `bench event ${n} `.padEnd(BODY_BYTES, 'x');
}

/** A wall-clock time in ms comparable between processes on this machine (the brief's clock for cross-process latency). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
