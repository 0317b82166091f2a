import type { Bus } from './bus';

/** The single-process bus: listeners are called synchronously, with the published object itself. */
export function createMemoryBus(): Bus {
  const topics = new Map<string, Set<(message: unknown) => void>>();
  return {
    async publish(topic, message) {
      for (const listener of topics.get(topic) ?? []) listener(message);
    },
    subscribe(topic, listener) {
      let listeners = topics.get(topic);
      if (!listeners) {
        listeners = new Set();
        topics.set(topic, listeners);
      }
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) topics.delete(topic);
      };
    },
    async close() {
      topics.clear();
    },
  };
}
