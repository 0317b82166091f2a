/** A bus listener: called with each message published on the topics it listens to. */
export type BusListener = (message: unknown) => void;

/** Fan-out of live events between the server processes that share a store. */
export interface Bus {
  /** Delivers `message` to every current subscriber of `topic`, in any process. */
  publish(topic: string, message: unknown): Promise<void>;
  /**
   * Messages on `topic` arrive at `listener` in publish order per publisher.
   * A pair with `unsubscribe` rather than a returned closure: a subscriber
   * that listens for hours holds nothing for it but its own listener.
   */
  subscribe(topic: string, listener: BusListener): void;
  /** Stops `listener` hearing `topic`; nothing when it was not listening. */
  unsubscribe(topic: string, listener: BusListener): void;
  /**
   * Resolves once this process hears what is published on `topic` from now
   * on (at once in one process; after Redis confirmed the subscription across
   * processes). A reader of the store waits for it, so nothing falls between
   * its read and its listener.
   */
  listening(topic: string): Promise<void>;
  close(): Promise<void>;
}
