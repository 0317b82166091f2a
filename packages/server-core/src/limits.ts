/** Per-connection limits of the WebSocket transport (design.md, "Protecting the server"). */
export interface Limits {
  maxPayloadBytes: number;
  maxConnections: number;
  handshakeTimeoutMs: number;
  maxSubscriptionsPerConnection: number;
  /** Sustained messages per second a connection may send (token bucket refill). */
  messagesPerSecond: number;
  /** Messages a connection may send at once (token bucket size). */
  messageBurst: number;
  /** Unsent bytes queued for one connection before it is closed as a slow consumer. */
  sendBufferBytes: number;
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
  handshakeTimeoutMs: 5_000,
  maxSubscriptionsPerConnection: 100,
  messagesPerSecond: 50,
  // Room for a reconnect's resubscribe batch (up to maxSubscriptionsPerConnection calls at once).
  messageBurst: 250,
  sendBufferBytes: 4 * 1024 * 1024,
};

export const DEFAULT_HEARTBEAT: Heartbeat = { pingAfterMs: 30_000, terminateAfterMs: 10_000 };
