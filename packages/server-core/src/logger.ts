import pino, { type DestinationStream } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

type Level = Exclude<LogLevel, 'silent'>;

export type Logger = Record<Level, (event: string, fields?: Record<string, unknown>) => void>;

const CENSOR = '[redacted]';

/** What to log of a failure: libraries do not always throw Errors, so something readable whatever came. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * A warning that can come with every call while a dependency is away: logged
 * at most once per `intervalMs`, with how many times it came since the last
 * (in the field `countField`). Its fields are worked out only when it is logged.
 */
export function throttledWarning(logger: Logger, event: string, intervalMs: number, countField = 'times') {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let times = 0;
  return (fields: () => Record<string, unknown>): void => {
    times += 1;
    const now = performance.now();
    if (now - loggedAt < intervalMs) return;
    loggedAt = now;
    logger.warn(event, { ...fields(), [countField]: times });
    times = 0;
  };
}

/** Field names whose values are never logged, at the top level and up to three objects deep. */
const SECRET_KEYS = ['token', 'accessToken', 'refreshToken', 'password', 'authorization', 'Authorization'];
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

/**
 * Token-shaped text inside any string value, whatever its field is called:
 * - an HTTP bearer credential (`Bearer <anything>`);
 * - a JWT (`header.payload.signature`, base64url; a JWT header is JSON, so it always starts `eyJ`);
 * - a service token as apps/server issues them: `tts_` and 32 random bytes in base64url.
 * Refresh tokens are bare random base64url with no shape of their own: only their field name gives them away.
 */
const TOKEN_TEXT =
  /\b(?:[Bb]earer|BEARER)\s+[A-Za-z0-9\-._~+/]+=*|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|\btts_[A-Za-z0-9_-]{16,}/g;

/** How deep `scrub` looks into nested objects and arrays; deeper values are logged as they are. */
const MAX_DEPTH = 6;

function scrubString(value: string): string {
  // `replace` with a global regex resets lastIndex itself; most strings have no match and come back as they were.
  return value.replace(TOKEN_TEXT, CENSOR);
}

const isPlainObject = (value: object): value is Record<string, unknown> => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** `value` with token-shaped strings censored; the same reference when there were none (callers' objects are never mutated). */
function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const next = scrub(value[i], depth + 1);
      if (next !== value[i]) {
        copy ??= value.slice();
        copy[i] = next;
      }
    }
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const next = scrub(value[key], depth + 1);
    if (next !== value[key]) {
      copy ??= { ...value };
      copy[key] = next;
    }
  }
  return copy ?? value;
}

/** Loggers whose lines may still be on their way to stdout: how to wait for them. */
const flushers = new WeakMap<Logger, () => Promise<void>>();

/** How long `flushLogger` waits for pending writes before forcing them out synchronously. */
const FLUSH_TIMEOUT_MS = 2_000;

/**
 * stdout through pino's asynchronous destination (sonic-boom), wrapped to know
 * whether lines are still in flight so a shutdown can wait for them.
 */
function asyncStdout(): { stream: DestinationStream; flush: () => Promise<void> } {
  const sonic = pino.destination({ dest: 1, sync: false });
  let pending = false;
  let waiters: Array<() => void> = [];
  const settle = () => {
    pending = false;
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  };
  // sonic-boom emits 'drain' once everything written so far has reached the fd.
  sonic.on('drain', settle);
  sonic.on('error', settle);
  return {
    stream: {
      write(line: string) {
        pending = true;
        sonic.write(line);
      },
    },
    flush() {
      if (!pending) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          try {
            sonic.flushSync();
          } catch {
            // Closed or broken stdout: nothing more can be written.
          }
          settle();
        }, FLUSH_TIMEOUT_MS);
        timer.unref();
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/**
 * One JSON object per line: `time` (ISO), `level` (its name), `event`, then
 * the fields. Secrets are censored as `[redacted]`: fields named like tokens
 * or passwords, and token-shaped strings anywhere.
 *
 * Lines go to stdout asynchronously (call `flushLogger` before exiting; pino
 * also flushes synchronously on `process.exit`). With `write`, each line is
 * handed to it synchronously, newline included: tests read them at once.
 */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const stdout = write || level === 'silent' ? undefined : asyncStdout();
  const stream: DestinationStream = write ? { write } : (stdout?.stream ?? { write() {} });
  const log = pino(
    {
      level,
      base: null,
      // `event` is in every object logged, so pino never adds a `msg` (not even an error's message).
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrub(object, 0) as Record<string, unknown>,
      },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
    },
    stream,
  );
  const at =
    (name: Level) =>
    (event: string, fields?: Record<string, unknown>): void => {
      if (!log.isLevelEnabled(name)) return;
      log[name](fields ? { event, ...fields } : { event });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  if (stdout) flushers.set(logger, stdout.flush);
  return logger;
}

/**
 * Resolves once every line `logger` has written so far has reached stdout
 * (at most ~2 s, then forced out synchronously). Call it on shutdown before
 * `process.exit`. Resolves at once for a `write` sink, `silent`, or a logger
 * `createLogger` did not make.
 */
export function flushLogger(logger: Logger): Promise<void> {
  return flushers.get(logger)?.() ?? Promise.resolve();
}
