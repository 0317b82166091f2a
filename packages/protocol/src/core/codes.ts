/**
 * Every close code a Tether server sends, in one table (PROTOCOL.md, "Close codes").
 * No other file spells these numbers.
 */
export const CloseCode = {
  /** Normal close: the client does nothing. */
  Normal: 1000,
  /** Server going away (after a reconnect notice): reconnect and resume. */
  GoingAway: 1001,
  /** Message larger than the limit (default 1 MiB): report, reconnect. */
  MessageTooBig: 1009,
  /** Internal error: reconnect with backoff. */
  InternalError: 1011,
  /** Server restarting (after a reconnect notice): reconnect and resume. */
  ServiceRestart: 1012,
  /** Server overloaded (connection limit): reconnect with a longer backoff. */
  TryAgainLater: 1013,
  /** Repeated malformed frames: report, reconnect with backoff. */
  BadFrames: 4400,
  /** Token missing when required, invalid or expired: refresh it, reconnect; stop if it cannot. */
  Unauthorized: 4401,
  /** No connectionParams within the handshake timeout: reconnect. */
  HandshakeTimeout: 4408,
  /** Unsupported protocol version: stop and tell the user to upgrade. */
  UpgradeRequired: 4426,
  /** Rate limit exceeded: reconnect after a longer backoff. */
  RateLimited: 4429,
  /** Slow consumer (send buffer over its limit): reconnect, resume. */
  SlowConsumer: 4508,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Codes after which reconnecting cannot help: the client stops. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set<number>([CloseCode.Normal, CloseCode.UpgradeRequired]);

/** Codes that ask for a longer backoff than an ordinary drop. */
export const SLOW_DOWN_CLOSE_CODES: ReadonlySet<number> = new Set<number>([
  CloseCode.TryAgainLater,
  CloseCode.RateLimited,
]);

/** HTTP status for an upgrade from an origin that is not on the allowlist. */
export const FORBIDDEN_ORIGIN_HTTP_STATUS = 403;
