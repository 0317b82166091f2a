import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { killAllServers } from '@tether/testing';
import { WebSocket } from 'ws';
import { runClosedLoop } from './closed-loop';
import { startTether } from './transport/tether-target';
import { createTetherLink } from '../../../packages/client/src/link/tether-link';
import { DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECT } from '../../../packages/client/src/options';
const t = await startTether();
const tether = createTetherLink<any>({ url: t.wsUrl, WebSocket: WebSocket as any, connectionParams: async () => ({ protocolVersion: '3', token: t.token }), keepAlive: DEFAULT_KEEP_ALIVE, reconnect: DEFAULT_RECONNECT, fallback: null });
const op = tether.link({} as any);
let id = 0;
const call = () => new Promise<void>((resolve, reject) => {
  const o = op({ op: { id: ++id, type: 'query', path: 'connection.ping', input: undefined, context: {}, signal: null } as any, next: null as any });
  o.subscribe({ next: () => { resolve(); }, error: reject, complete: () => {} });
});
await call();
for (const n of [1, 64, 64]) {
  const r = await runClosedLoop(n, { warmupMs: 500, durationMs: 2000, maxOps: 1e7 }, call);
  console.log(n, 'perSecond', Math.round(r.perSecond));
}
const s = new Session(); s.connect(); await s.post('Profiler.enable'); await s.post('Profiler.start');
await runClosedLoop(64, { warmupMs: 0, durationMs: 2000, maxOps: 1e7 }, call);
const { profile } = await s.post('Profiler.stop'); writeFileSync('/tmp/prof/link.cpuprofile', JSON.stringify(profile));
tether.dispose(); await t.stop(); await killAllServers();
