import { afterEach, describe, expect, it } from 'vitest';
import { onWakeSignals } from './wake-signals';

/** A stand-in for `window` and `document`: Node has neither; the browser e2e tests cover the real ones. */
function fakeTarget() {
  const listeners = new Map<string, Set<() => void>>();
  return {
    addEventListener: (type: string, listener: () => void) =>
      listeners.set(type, (listeners.get(type) ?? new Set()).add(listener)),
    removeEventListener: (type: string, listener: () => void) => listeners.get(type)?.delete(listener),
    fire: (type: string) => {
      for (const listener of listeners.get(type) ?? []) listener();
    },
  };
}

const globals = globalThis as { window?: unknown; document?: unknown };
afterEach(() => {
  delete globals.window;
  delete globals.document;
});

describe('wake signals', () => {
  it('wake the client when the browser comes online or the page becomes visible, until stopped', () => {
    const win = fakeTarget();
    const doc = Object.assign(fakeTarget(), { visibilityState: 'hidden' });
    globals.window = win;
    globals.document = doc;
    let wakes = 0;
    const stop = onWakeSignals(() => {
      wakes += 1;
    });
    win.fire('online');
    doc.fire('visibilitychange');
    doc.visibilityState = 'visible';
    doc.fire('visibilitychange');
    stop();
    win.fire('online');
    expect(wakes).toBe(2);
  });

  it('do nothing outside a browser', () => {
    expect(() => onWakeSignals(() => {})()).not.toThrow();
  });
});
