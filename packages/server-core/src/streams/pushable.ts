import { type Pushable, type PushRun, type PushSink, pushInto } from '@tether/protocol';
import { pushedToIterator } from './pushed-iterator';

/** A stream that starts by `start` when pushed, and is read through `pushedToIterator` when iterated. */
export function pushable<T>(start: (sink: PushSink<T>) => PushRun): Pushable<T> {
  const stream: Pushable<T> = { [pushInto]: start, [Symbol.asyncIterator]: () => pushedToIterator(stream) };
  return stream;
}
