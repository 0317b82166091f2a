import type { Bus, BusListener } from './bus';

/** The single-process bus: listeners are called synchronously, with the published object itself. */
export function createMemoryBus(): Bus {
  const topics = new Map<string, Set<BusListener>>();
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
    },
    unsubscribe(topic, listener) {
      const listeners = topics.get(topic);
      if (!listeners?.delete(listener)) return;
      if (listeners.size === 0) topics.delete(topic);
    },
    async close() {
      topics.clear();
    },
  };
}
