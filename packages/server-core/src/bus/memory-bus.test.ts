import { describe, expect, it } from 'vitest';
import { createMemoryBus } from './memory-bus';

/** What only the in-process bus does; what every bus does is in `bus.contract.ts`. */
describe('memory bus', () => {
  it('delivers a publish made inside a listener after the message being delivered, so order holds for everyone', async () => {
    const bus = createMemoryBus();
    const heard: string[] = [];
    bus.subscribe('t', (message) => {
      heard.push(`a:${message}`);
      if (message === 'first') void bus.publish('t', 'second');
    });
    bus.subscribe('t', (message) => heard.push(`b:${message}`));
    await bus.publish('t', 'first');
    expect(heard).toEqual(['a:first', 'b:first', 'a:second', 'b:second']);
  });

  it('keeps delivering to the others when one listener throws, then rejects the publish', async () => {
    const bus = createMemoryBus();
    const heard: string[] = [];
    bus.subscribe('t', () => {
      throw new Error('broken listener');
    });
    bus.subscribe('t', (message) => heard.push(String(message)));
    await expect(bus.publish('t', 'one')).rejects.toThrow('broken listener');
    expect(heard).toEqual(['one']);
    // The bus is not wedged by the failure.
    await expect(bus.publish('t', 'two')).rejects.toThrow('broken listener');
    expect(heard).toEqual(['one', 'two']);
  });
});
