import { randomBytes } from 'node:crypto';
import { describeBusContract } from './bus.contract';
import { createMemoryBus } from './memory-bus';
import { createRedisBus } from './redis-bus';

describeBusContract('in one process (memory)', async () => {
  const bus = createMemoryBus();
  return { a: bus, b: bus, errors: [], close: () => bus.close() };
});

const { REDIS_URL } = process.env;
if (REDIS_URL) {
  describeBusContract('across processes (Redis)', async () => {
    const errors: unknown[] = [];
    // Channels of their own: runs sharing the Redis never hear each other.
    const channelPrefix = `tether-test-${randomBytes(4).toString('hex')}:`;
    const open = () => createRedisBus({ url: REDIS_URL, channelPrefix, onError: (error) => errors.push(error) });
    const [a, b] = await Promise.all([open(), open()]);
    return { a, b, errors, close: async () => void (await Promise.all([a.close(), b.close()])) };
  });
} else {
  console.warn('[skip] the bus contract across processes (Redis): REDIS_URL is not set');
}
