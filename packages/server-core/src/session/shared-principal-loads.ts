import type { Roster } from '../roster/roster';

/** What one principal holds on one process. */
export interface PrincipalLoad {
  connections: number;
  subscriptions: number;
}

export interface SharedPrincipalLoadsOptions {
  roster: Roster;
  /** A read that takes longer is passed over: the caps fall back to this process's own counts. @default 250 */
  timeoutMs?: number;
  /** How old the other processes' counts may be before a subscription reads them again (in the background). @default 1_000 */
  refreshMs?: number;
  /** Counts older than this are not trusted at all (the principal may have let go of them): none is counted. @default 10_000 */
  maxAgeMs?: number;
  /** A roster failure: reported, never thrown (the caps then hold per process). */
  onError(error: unknown): void;
}

const NONE: PrincipalLoad = Object.freeze({ connections: 0, subscriptions: 0 });
const scope = (principalKey: string) => `principal-load:${principalKey}`;

/**
 * Each principal's connections and subscriptions on the other processes, so
 * the per-principal caps hold over all of them. Every process puts its own
 * counts in the roster (the latest per principal, sent once per task however
 * often it changes); a sign-in reads the others' counts and waits for them,
 * and a new subscription uses those last read, reading them again in the
 * background when they are older than `refreshMs` (and counting none
 * elsewhere when they are older than `maxAgeMs`). A roster that fails or is slow is
 * passed over: the caps then hold per process, loosened by the number of
 * processes, and a sign-in never hangs on Redis.
 */
export class SharedPrincipalLoads {
  readonly #options: Required<SharedPrincipalLoadsOptions>;
  /** Principals whose counts changed since the last write, with their latest (undefined: none left here). */
  readonly #unwritten = new Map<string, PrincipalLoad | undefined>();
  readonly #others = new Map<string, { load: PrincipalLoad; readAt: number; reading: boolean }>();
  #writeScheduled = false;

  constructor(options: SharedPrincipalLoadsOptions) {
    this.#options = { timeoutMs: 250, refreshMs: 1_000, maxAgeMs: 10_000, ...options };
  }

  /** Records what `principalKey` now holds on this process (undefined: nothing), for the others to read. */
  report(principalKey: string, load: PrincipalLoad | undefined): void {
    this.#unwritten.set(principalKey, load && { ...load });
    if (!load) this.#others.delete(principalKey);
    if (this.#writeScheduled) return;
    this.#writeScheduled = true;
    // Sent once the current task is done: a session's close releases its subscriptions one by one, and one write says it all.
    queueMicrotask(() => this.#write());
  }

  /**
   * The principal's counts on the other processes, read now. None if the
   * roster fails or does not answer in time: counts last read could be long
   * gone, and must not keep a principal out while Redis is away.
   */
  read(principalKey: string): Promise<PrincipalLoad> {
    const { timeoutMs, roster, onError } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    return Promise.race([roster.others(scope(principalKey)), timedOut])
      .then((values) => {
        if (values !== null) return sum(values);
        onError(new Error(`the other processes' counts were not read within ${timeoutMs} ms`));
        return NONE;
      })
      .catch((error: unknown) => {
        onError(error);
        return NONE;
      })
      .finally(() => clearTimeout(timer));
  }

  /** Keeps what a sign-in read of a principal it admitted, for the subscriptions that follow. */
  admitted(principalKey: string, elsewhere: PrincipalLoad): void {
    this.#others.set(principalKey, { load: elsewhere, readAt: performance.now(), reading: false });
  }

  /**
   * The principal's counts on the other processes as last read, read again
   * in the background for the next subscription once older than
   * `refreshMs`. Counts older than `maxAgeMs` are not trusted (the principal
   * may long have let go of them): none is counted.
   */
  cached(principalKey: string): PrincipalLoad {
    const known = this.#others.get(principalKey);
    if (!known) return NONE;
    const age = performance.now() - known.readAt;
    if (age >= this.#options.refreshMs && !known.reading) {
      known.reading = true;
      this.read(principalKey).then((load) => {
        // A principal gone from this process meanwhile keeps no entry.
        if (this.#others.get(principalKey) === known) this.admitted(principalKey, load);
      });
    }
    return age < this.#options.maxAgeMs ? known.load : NONE;
  }

  #write(): void {
    this.#writeScheduled = false;
    const { roster, onError } = this.#options;
    for (const [principalKey, load] of this.#unwritten) {
      roster.put(scope(principalKey), load ?? null).catch(onError);
    }
    this.#unwritten.clear();
  }
}

/** Adds up the counts the other processes put, passing over anything that is not a count. */
function sum(values: unknown[]): PrincipalLoad {
  const total = { connections: 0, subscriptions: 0 };
  for (const value of values) {
    const load = value as Partial<PrincipalLoad> | null;
    if (typeof load?.connections === 'number') total.connections += load.connections;
    if (typeof load?.subscriptions === 'number') total.subscriptions += load.subscriptions;
  }
  return total;
}
