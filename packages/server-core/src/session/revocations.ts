import type { Bus } from '../bus/bus';

/** A revocation: every session and subscription bound to `key` ends, told `message`. */
export interface Revocation {
  key: string;
  message: string;
}

/** Where revocations are made and heard: every process sharing it hears each one. */
export interface Revocations {
  /** Ends, on every process, each session and subscription bound to `key`; resolves once it is sent on its way. */
  revoke(key: string, message: string): Promise<void>;
  /** Calls `listener` with every revocation made from now on, by any process, at least once. Returns a stop. */
  follow(listener: (revocation: Revocation) => void): () => void;
}

const REVOCATIONS_TOPIC = 'tether:revocations';

/**
 * Revocations carried by the bus alone: for one process (the memory bus loses
 * nothing) or an app without a store. Across processes a message Redis drops
 * is lost: there, `createRevocationLog` records each one in the store.
 */
export function busRevocations(bus: Bus): Revocations {
  return {
    revoke: (key, message) => bus.publish(REVOCATIONS_TOPIC, { key, message } satisfies Revocation),
    follow(listener) {
      const onMessage = (message: unknown) => listener(message as Revocation);
      bus.subscribe(REVOCATIONS_TOPIC, onMessage);
      return () => bus.unsubscribe(REVOCATIONS_TOPIC, onMessage);
    },
  };
}
