/**
 * Shares reads of one key among callers, without ever handing a caller a
 * value read before it asked: a caller that comes while a read of its key is
 * under way waits for the next read, which starts when that one ends and is
 * shared by everyone who came meanwhile. At most one read per key runs, and
 * one waits. A resumable stream asks for its head only after its live
 * listener is attached, so the head it gets is never older than its listener.
 */
export function coalescedRead<K, V>(read: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const slots = new Map<K, { running: Promise<V>; next: Promise<V> | null }>();
  const start = (key: K): Promise<V> => {
    const running = read(key);
    const slot = { running, next: null as Promise<V> | null };
    slots.set(key, slot);
    const done = () => {
      if (slots.get(key) === slot) slots.delete(key);
    };
    running.then(done, done);
    return running;
  };
  return (key) => {
    const slot = slots.get(key);
    if (!slot) return start(key);
    if (!slot.next) {
      const after = () => start(key);
      slot.next = slot.running.then(after, after);
    }
    return slot.next;
  };
}
