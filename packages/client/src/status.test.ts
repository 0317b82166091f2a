import { describe, expect, it } from 'vitest';
import { createStatus } from './status';

const noClose = { transport: 'websocket', lastCloseCode: null, lastCloseReason: '' } as const;

describe('status observable', () => {
  it('notifies subscribers of each change (not of repeats) and stops after unsubscribe', () => {
    const status = createStatus({ state: 'connecting', ...noClose });
    const seen: string[] = [];
    const unsubscribe = status.subscribe((s) => seen.push(s.state));
    status.set({ state: 'connected', ...noClose });
    status.set({ state: 'connected', ...noClose });
    unsubscribe();
    status.set({ state: 'connecting', ...noClose });
    expect(seen).toEqual(['connected']);
  });

  it('waitFor resolves at once for the current state and later for a future one', async () => {
    const status = createStatus({ state: 'connected', ...noClose });
    await expect(status.waitFor('connected')).resolves.toEqual({ state: 'connected', ...noClose });
    const later = status.waitFor('reconnecting');
    status.set({
      ...noClose,
      state: 'reconnecting',
      attempt: 1,
      retryAt: 10,
      lastCloseCode: 1012,
      lastCloseReason: 'restart',
    });
    await expect(later).resolves.toMatchObject({ attempt: 1, lastCloseCode: 1012 });
  });

  it('waitFor rejects when the client closes first, or when aborted', async () => {
    const status = createStatus({ state: 'connecting', ...noClose });
    const closed = status.waitFor('connected');
    status.set({
      ...noClose,
      state: 'closed',
      reason: 'upgrade-required',
      lastCloseCode: 4426,
      lastCloseReason: 'upgrade',
    });
    await expect(closed).rejects.toThrow('upgrade-required');
    const controller = new AbortController();
    const aborted = createStatus({ state: 'connecting', ...noClose }).waitFor('connected', {
      signal: controller.signal,
    });
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    await expect(
      createStatus({ state: 'connecting', ...noClose }).waitFor('connected', { signal: controller.signal }),
    ).rejects.toThrow('gave up');
  });
});
