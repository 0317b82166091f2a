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
 * a new subscription uses those last read and reads again in the background
 * when they are older than `refreshMs`. A roster that fails or is slow is
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
    this.#options = { timeoutMs: 250, refreshMs: 1_000, ...options };
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
  async read(principalKey: string): Promise<PrincipalLoad> {
    const load = await this.#readOthers(principalKey);
    this.#others.set(principalKey, { load, readAt: performance.now(), reading: false });
    return load;
  }

  /** The principal's counts on the other processes as last read; read again in the background when stale. */
  cached(principalKey: string): PrincipalLoad {
    const known = this.#others.get(principalKey);
    if (!known) return NONE;
    if (!known.reading && performance.now() - known.readAt >= this.#options.refreshMs) {
      known.reading = true;
      // A principal gone from this process meanwhile keeps no entry.
      this.#readOthers(principalKey).then((load) => {
        if (this.#others.get(principalKey) === known) {
          this.#others.set(principalKey, { load, readAt: performance.now(), reading: false });
        }
      });
    }
    return known.load;
  }

  async #readOthers(principalKey: string): Promise<PrincipalLoad> {
    const { timeoutMs, roster, onError } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      const values = await Promise.race([roster.others(scope(principalKey)), timedOut]);
      if (values !== null) return sum(values);
      onError(new Error(`the other processes' counts were not read within ${timeoutMs} ms`));
    } catch (error) {
      onError(error);
    } finally {
      clearTimeout(timer);
    }
    return NONE;
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
