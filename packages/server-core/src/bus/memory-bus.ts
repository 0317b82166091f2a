import type { Bus, BusListener } from './bus';

/**
 * The single-process bus: listeners are called synchronously, with the
 * published object itself. A publish made by a listener while a message is
 * being delivered waits until that delivery is done, so every listener hears
 * every topic's messages in publish order. A listener that throws spares the
 * others: the publish that delivered it rejects once every listener has heard.
 */
export function createMemoryBus(): Bus {
  const topics = new Map<string, Set<BusListener>>();
  const queue: Array<{ topic: string; message: unknown }> = [];
  let delivering = false;
  const deliver = () => {
    delivering = true;
    let failure: { cause: unknown } | null = null;
    for (let next = queue.shift(); next; next = queue.shift()) {
      for (const listener of topics.get(next.topic) ?? []) {
        try {
          listener(next.message);
        } catch (cause) {
          failure ??= { cause };
        }
      }
    }
    delivering = false;
    if (failure) throw failure.cause;
  };
  return {
    async publish(topic, message) {
      queue.push({ topic, message });
      if (!delivering) deliver();
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
    listening: () => Promise.resolve(),
    async close() {
      topics.clear();
    },
  };
}
