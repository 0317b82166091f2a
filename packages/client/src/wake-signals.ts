/** The bits of `window` and `document` used here, typed structurally so Node builds need no DOM typings. */
interface EventSource {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}
interface VisibilitySource extends EventSource {
  visibilityState: string;
}

/**
 * In a browser, coming back online or to a visible page is a good moment to
 * reconnect at once instead of waiting out the backoff. Elsewhere a no-op.
 * Returns the function that stops listening.
 */
export function onWakeSignals(wake: () => void): () => void {
  const { window: win, document: doc } = globalThis as { window?: EventSource; document?: VisibilitySource };
  if (!win || !doc) return () => {};
  const onVisible = () => {
    if (doc.visibilityState === 'visible') wake();
  };
  win.addEventListener('online', wake);
  doc.addEventListener('visibilitychange', onVisible);
  return () => {
    win.removeEventListener('online', wake);
    doc.removeEventListener('visibilitychange', onVisible);
  };
}
