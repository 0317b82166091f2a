/**
 * Every limit of the session core, on every transport. The table in
 * docs/ARCHITECTURE.md ("Limits") lists them with their settings and what a
 * client sees when one is hit.
 */
export interface Limits {
  /** Largest WebSocket message or HTTP body. */
  maxPayloadBytes: number;
  /** Open WebSocket connections and SSE streams on this process. */
  maxConnections: number;
  /** ... from one remote address. */
  maxConnectionsPerAddress: number;
  /** Open TCP sockets (idle HTTP keep-alive ones too) from one peer address; trusted proxies are exempt. */
  maxSocketsPerAddress: number;
  /** ... of one principal (a user, a service token's bot). */
  maxConnectionsPerPrincipal: number;
  /** A WebSocket must send connectionParams within this. */
  handshakeTimeoutMs: number;
  maxSubscriptionsPerConnection: number;
  /** Running subscriptions of one principal over all its connections, WebSocket and SSE. */
  maxSubscriptionsPerPrincipal: number;
  /** Sustained calls per second one WebSocket connection may make (token bucket refill). */
  messagesPerSecond: number;
  /** Calls a WebSocket connection may make at once (token bucket size). */
  messageBurst: number;
  /** Calls in one WebSocket frame or one HTTP batch. */
  maxCallsPerFrame: number;
  /** Sustained HTTP calls per second from one remote address, and from one principal (a batch costs one per call). */
  httpCallsPerSecond: number;
  /** HTTP calls one address, or one principal, may make at once. */
  httpCallBurst: number;
  /** Unsent bytes queued for one connection before it is ended as a slow consumer. */
  sendBufferBytes: number;
  /**
   * Bytes one principal's replays (resuming subscriptions) may be sent, sustained, per process: bytes, not
   * events, since what a replay costs the server (reading, framing, sending) grows with its events' size.
   */
  replayBytesPerSecond: number;
  /** ... at once: a reconnect after an outage replays this much before pacing sets in. */
  replayByteBurst: number;
  /** Past this many unsent bytes, ephemeral events (untracked: presence, typing) wait; only the latest is sent once the reader catches up. */
  ephemeralBufferBytes: number;
}

export interface Heartbeat {
  /** Ping a connection after this much silence. */
  pingAfterMs: number;
  /** Terminate it when nothing arrives this long after the ping. */
  terminateAfterMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxPayloadBytes: 1024 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 500,
  // Its WebSocket connections and SSE streams, and room besides for plain HTTP.
  maxSocketsPerAddress: 600,
  maxConnectionsPerPrincipal: 100,
  handshakeTimeoutMs: 5_000,
  maxSubscriptionsPerConnection: 100,
  maxSubscriptionsPerPrincipal: 1_000,
  messagesPerSecond: 50,
  // Room for a reconnect's resubscribe batch (up to maxSubscriptionsPerConnection calls at once).
  messageBurst: 250,
  maxCallsPerFrame: 200,
  httpCallsPerSecond: 100,
  httpCallBurst: 500,
  sendBufferBytes: 4 * 1024 * 1024,
  ephemeralBufferBytes: 256 * 1024,
  replayBytesPerSecond: 512 * 1024,
  replayByteBurst: 4 * 1024 * 1024,
};

export const DEFAULT_HEARTBEAT: Heartbeat = { pingAfterMs: 30_000, terminateAfterMs: 10_000 };
