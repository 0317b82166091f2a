/** Fan-out of live events between the server processes that share a store. */
export interface Bus {
  /** Delivers `message` to every current subscriber of `topic`, in any process. */
  publish(topic: string, message: unknown): Promise<void>;
  /** Returns the unsubscribe function. Messages arrive in publish order per publisher. */
  subscribe(topic: string, listener: (message: unknown) => void): () => void;
  close(): Promise<void>;
}
