import type { ConnectionStatus, TetherClient } from '@tether/client';
import { useEffect, useState, useSyncExternalStore } from 'react';

function useOnline(): boolean {
  return useSyncExternalStore(
    (notify) => {
      addEventListener('online', notify);
      addEventListener('offline', notify);
      return () => {
        removeEventListener('online', notify);
        removeEventListener('offline', notify);
      };
    },
    () => navigator.onLine,
  );
}

/** Seconds left until `deadline`, ticking once a second while there is a deadline. */
function useCountdown(deadline: number | null): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (deadline === null) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [deadline]);
  return deadline === null ? 0 : Math.max(0, Math.ceil((deadline - now) / 1_000));
}

/** The state in words, announced once per change (so no countdown in it). */
function bannerText(status: ConnectionStatus, online: boolean): string | null {
  if (!online) return 'Offline. Messages you write will be sent when the connection returns.';
  switch (status.state) {
    case 'connected':
      // Live updates go on over SSE; worth knowing when something feels slower.
      return status.transport === 'http' ? 'Connected over HTTP: this network blocks WebSocket.' : null;
    case 'connecting':
      return 'Connecting…';
    case 'reconnecting':
      return 'Reconnecting';
    case 'closed':
      return status.reason === 'upgrade-required'
        ? 'Upgrade required: this page is older than the server. Reload to get the new version.'
        : 'Disconnected. Reload the page to reconnect.';
  }
}

/** The connection's state in words, with "retry now" while waiting to reconnect. */
export function ConnectionBanner({ client }: { client: TetherClient }) {
  const status = useSyncExternalStore(client.status.subscribe, client.status.get);
  const online = useOnline();
  const [deadline, setDeadline] = useState<number | null>(null);
  useEffect(() => {
    setDeadline(status.state === 'reconnecting' ? status.retryAt : null);
  }, [status]);
  const seconds = useCountdown(deadline);
  const text = bannerText(status, online);
  const waiting = status.state === 'reconnecting' && online;
  return (
    <div
      className={`banner ${text ? 'banner-visible' : ''}`}
      data-state={status.state}
      data-transport={status.transport}
    >
      <span role="status" aria-live="polite">
        {text}
      </span>
      {/* Ticks every second: shown, not announced. */}
      {waiting && <span aria-hidden="true">{seconds > 0 ? ` in ${seconds} s` : '…'}</span>}
      {text && waiting && (
        <button type="button" className="link" onClick={() => client.reconnectNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}
