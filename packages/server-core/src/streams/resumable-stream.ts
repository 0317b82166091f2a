import type { Pushable, PushRun, PushSink } from '@tether/protocol';
import { type TrackedEnvelope, tracked } from '@trpc/server';
import type { Bus } from '../bus/bus';
import type { SeqRange, SequencedEvent } from './event-log';
import { pushable } from './pushable';
import { sharedRangeRead } from './shared-range-read';

/** Where a family of resumable streams (say, one per room) reads and listens; shared by all of them. */
export interface ResumableLog<K, E extends SequencedEvent, M extends SequencedEvent> {
  bus: Bus;
  /** The bus topic the stream's writer publishes each committed event on, after its commit. */
  topic(key: K): string;
  /** Durable events with `afterSeq < seq <= untilSeq`, in seq order, at most `limit`. */
  read(key: K, range: SeqRange): Promise<E[]>;
  /** The newest committed seq. */
  lastSeq(key: K): Promise<number>;
  /** The marker delivered once replay is done (at once when starting live): "delivered up to seq". */
  synced(key: K, seq: number): M;
  /** Replay page size; 100 when absent (a page is what every other read of the store may wait behind). */
  pageSize?: number;
  /**
   * Where the bus may lose a message (Redis across a restart), the heads of
   * the keys with live subscribers here, read together every `everyMs`: a
   * stream behind its head reads the rest from the store, so a quiet one is
   * not left behind until its next event. Absent where the bus loses nothing.
   */
  headCheck?: { everyMs: number; lastSeqs(keys: readonly K[]): Promise<number[]> };
}

/** A run that can be told how far its stream has got. */
interface HeadFollower {
  reachHead(seq: number): void;
}

/** The live runs of one log on this process, by key, and the one timer that checks their heads. */
class HeadWatch<K> {
  readonly #runs = new Map<K, Set<HeadFollower>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking = false;

  constructor(private readonly check: NonNullable<ResumableLog<K, SequencedEvent, SequencedEvent>['headCheck']>) {}

  add(key: K, run: HeadFollower): void {
    let runs = this.#runs.get(key);
    if (!runs) {
      runs = new Set();
      this.#runs.set(key, runs);
    }
    runs.add(run);
    this.#timer ??= setInterval(() => void this.#checkHeads(), this.check.everyMs).unref();
  }

  delete(key: K, run: HeadFollower): void {
    const runs = this.#runs.get(key);
    if (!runs?.delete(run) || runs.size > 0) return;
    this.#runs.delete(key);
    if (this.#runs.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #checkHeads(): Promise<void> {
    // One check at a time: a slow store is not asked again before it answered.
    if (this.#checking) return;
    this.#checking = true;
    try {
      const keys = [...this.#runs.keys()];
      const heads = await this.check.lastSeqs(keys);
      keys.forEach((key, i) => {
        for (const run of this.#runs.get(key) ?? []) run.reachHead(heads[i] ?? 0);
      });
    } catch {
      // The store is down: the next check asks again, and live events still arrive meanwhile.
    } finally {
      this.#checking = false;
    }
  }
}

const headWatches = new WeakMap<object, HeadWatch<unknown>>();
type RangeRead<K, E> = (key: K, range: SeqRange) => Promise<E[]>;
const gapReaders = new WeakMap<object, RangeRead<unknown, SequencedEvent>>();

/** The log's reads of gaps, shared by its subscribers on this process that miss the same events. */
function gapReaderOf<K, E extends SequencedEvent>(log: ResumableLog<K, E, SequencedEvent>): RangeRead<K, E> {
  let reader = gapReaders.get(log) as RangeRead<K, E> | undefined;
  if (!reader) {
    reader = sharedRangeRead<K, E>((key, range) => log.read(key, range));
    gapReaders.set(log, reader as RangeRead<unknown, SequencedEvent>);
  }
  return reader;
}

function headWatchOf<K>(log: ResumableLog<K, SequencedEvent, SequencedEvent>): HeadWatch<K> | null {
  if (!log.headCheck) return null;
  let watch = headWatches.get(log) as HeadWatch<K> | undefined;
  if (!watch) {
    watch = new HeadWatch(log.headCheck);
    headWatches.set(log, watch as HeadWatch<unknown>);
  }
  return watch;
}

/**
 * Exactly-once, in-order delivery across replay and live (docs/ARCHITECTURE.md,
 * "Resume on the server"): listen first, replay `seq > afterSeq` from the
 * store (nothing when `afterSeq` is null), mark the hand-over with `synced`,
 * then deliver live events, skipping what was replayed. A live event ahead of
 * the next expected seq triggers a gap read from the store, so order holds
 * even when publishers are out of order. Every item is tracked by its seq
 * (the `synced` marker by the last seq delivered), so a client that
 * reconnects resumes with `lastEventId`.
 *
 * Pushable: the session core runs it without a promise per item, and a quiet
 * subscriber holds one small object. Iterable for everyone else.
 */
export function resumableStream<K, E extends SequencedEvent, M extends SequencedEvent>(
  log: ResumableLog<K, E, M>,
  key: K,
  afterSeq: number | null,
): Pushable<TrackedEnvelope<E | M>> {
  // The stream object is dropped once pushed: a quiet subscriber holds only its run.
  return pushable((sink) => {
    const run = new ResumableRun(log, key, sink);
    run.start(afterSeq);
    return run;
  });
}

/** One subscriber's delivery: where it is, and the live events that arrived while it read the store. */
class ResumableRun<K, E extends SequencedEvent, M extends SequencedEvent> implements PushRun, HeadFollower {
  #nextSeq = 0;
  /** Live events waiting while the store is read (replay, a gap); null once live. */
  #waiting: E[] | null = [];
  #stopped = false;
  #listening = false;

  constructor(
    private readonly log: ResumableLog<K, E, M>,
    private readonly key: K,
    private readonly sink: PushSink<TrackedEnvelope<E | M>>,
  ) {}

  start(afterSeq: number | null): void {
    // Only the log's writer publishes on this topic, always with an E.
    this.log.bus.subscribe(this.log.topic(this.key), this.#onLive);
    this.#listening = true;
    headWatchOf(this.log)?.add(this.key, this);
    this.#catchUp(afterSeq).catch((cause: unknown) => this.#fail(cause));
  }

  stop(): void {
    this.#stopped = true;
    if (!this.#listening) return;
    this.#listening = false;
    this.log.bus.unsubscribe(this.log.topic(this.key), this.#onLive);
    headWatchOf(this.log)?.delete(this.key, this);
  }

  /** The stream has got to `seq` (a head check): what this run has not heard of is read from the store. */
  reachHead(seq: number): void {
    // Reading already (replay, a gap): that read ends with whatever it finds, and the next check sees the rest.
    if (this.#stopped || this.#waiting || seq < this.#nextSeq) return;
    this.#waiting = [];
    this.#fillGap(seq + 1)
      .then(() => this.#drain())
      .catch((cause: unknown) => this.#fail(cause));
  }

  readonly #onLive = (message: unknown): void => {
    if (this.#stopped) return;
    const event = message as E;
    if (this.#waiting) this.#waiting.push(event);
    else if (event.seq === this.#nextSeq) this.#deliver(event);
    else if (event.seq > this.#nextSeq) {
      this.#waiting = [event];
      this.#drain().catch((cause: unknown) => this.#fail(cause));
    }
  };

  async #catchUp(afterSeq: number | null): Promise<void> {
    const { log, key } = this;
    // Heard from now on before the store is read: nothing can fall between the two.
    await log.bus.listening(log.topic(key));
    if (this.#stopped) return;
    const pageSize = log.pageSize ?? 100;
    if (afterSeq === null) {
      this.#nextSeq = (await log.lastSeq(key)) + 1;
    } else {
      this.#nextSeq = afterSeq + 1;
      for (;;) {
        // One page of a reader's at a time, each once its budget and connection allow, charged with what
        // it sent: a replay loop slows the looper, not the others.
        const done = await this.sink.paced?.();
        let page: E[] = [];
        try {
          if (this.#stopped) return;
          page = await log.read(key, { afterSeq: this.#nextSeq - 1, limit: pageSize });
          if (this.#stopped) return;
          for (const event of page) this.#deliver(event);
        } finally {
          done?.();
        }
        if (this.#stopped) return;
        if (page.length < pageSize) break;
      }
    }
    if (this.#stopped) return;
    const seq = this.#nextSeq - 1;
    this.sink.next(tracked(String(seq), log.synced(key, seq)));
    await this.#drain();
  }

  /** Delivers the waiting live events in order, reading any gap before them from the store; then goes live. */
  async #drain(): Promise<void> {
    const waiting = this.#waiting ?? [];
    for (let event = waiting.shift(); event; event = waiting.shift()) {
      if (event.seq < this.#nextSeq) continue;
      if (event.seq > this.#nextSeq) await this.#fillGap(event.seq);
      if (this.#stopped) return;
      this.#deliver(event);
    }
    this.#waiting = null;
  }

  async #fillGap(untilSeq: number): Promise<void> {
    const from = this.#nextSeq;
    // Every seq below a committed one is committed (event-log.ts), so the store has the gap.
    const missing = await gapReaderOf(this.log)(this.key, {
      afterSeq: from - 1,
      untilSeq: untilSeq - 1,
      limit: untilSeq - from,
    });
    if (this.#stopped) return;
    for (const event of missing) {
      if (event.seq !== this.#nextSeq) break;
      this.#deliver(event);
    }
    if (this.#nextSeq !== untilSeq) {
      throw new Error(`${this.log.topic(this.key)}: events ${this.#nextSeq}..${untilSeq - 1} missing from the store`);
    }
  }

  #deliver(event: E): void {
    // A delivery can end the subscription (its reader is cut): the rest of a page goes nowhere.
    if (this.#stopped) return;
    this.#nextSeq = event.seq + 1;
    this.sink.next(tracked(String(event.seq), event));
  }

  #fail(cause: unknown): void {
    if (this.#stopped) return;
    this.stop();
    this.sink.error(cause);
  }
}
