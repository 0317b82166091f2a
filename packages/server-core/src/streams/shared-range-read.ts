import type { SeqRange } from './event-log';

/**
 * Shares a read of the same range of the same stream among callers that ask
 * while it is under way. When a doorbell is lost, every subscriber of that
 * stream on the process finds the same gap at once (a later event, the head
 * check): one read serves them all instead of one each. The events read are
 * shared as live events are (nobody mutates them).
 */
export function sharedRangeRead<K, E>(
  read: (key: K, range: SeqRange) => Promise<E[]>,
): (key: K, range: SeqRange) => Promise<E[]> {
  const underWay = new Map<K, Map<string, Promise<E[]>>>();
  return (key, range) => {
    const id = `${range.afterSeq}:${range.untilSeq ?? ''}:${range.limit}`;
    let reads = underWay.get(key);
    const shared = reads?.get(id);
    if (shared) return shared;
    if (!reads) {
      reads = new Map();
      underWay.set(key, reads);
    }
    const byKey = reads;
    const reading = read(key, range);
    byKey.set(id, reading);
    const done = () => {
      byKey.delete(id);
      if (byKey.size === 0 && underWay.get(key) === byKey) underWay.delete(key);
    };
    reading.then(done, done);
    return reading;
  };
}
