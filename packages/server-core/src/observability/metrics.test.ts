import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, noopMetrics, OTHER_LABEL, type TransportMetrics } from './metrics';

/** The rendered samples (no comments) whose names start with `prefix`, as `name{labels} value` lines. */
async function samples(render: () => Promise<string>, prefix = 'tether_'): Promise<string[]> {
  return (await render()).split('\n').filter((line) => line.startsWith(prefix));
}

function workload(metrics: TransportMetrics): void {
  for (let i = 0; i < 3; i++) metrics.connectionOpened('websocket');
  metrics.connectionOpened('sse');
  metrics.connectionClosed('websocket', 1000);
  metrics.connectionClosed('websocket', 1012);
  metrics.subscriptionStarted('websocket');
  metrics.subscriptionStarted('websocket');
  metrics.subscriptionEnded('websocket');
  metrics.subscriptionStarted('sse');
  for (let i = 0; i < 5; i++) metrics.call('websocket', 'messages.send', 'ok');
  metrics.call('websocket', 'messages.send', 'BAD_REQUEST');
  metrics.call('http', 'rooms.list', 'ok');
  metrics.call('http', 'rooms.list', 'UNAUTHORIZED');
  metrics.bytesIn('websocket', 100);
  metrics.bytesIn('websocket', 23);
  metrics.bytesOut('websocket', 1_000);
  metrics.bytesOut('websocket', 24);
  metrics.bytesOut('sse', 7);
  metrics.bytesIn('http', 0); // nothing, but no error either
  metrics.sendBuffer(4_096);
  metrics.sendBuffer(65_536);
  metrics.sendBuffer(10);
  metrics.fanOutLatency(0.00005); // <= 0.1 ms
  metrics.fanOutLatency(0.0003); // <= 0.5 ms
  metrics.fanOutLatency(0.0003);
  metrics.fanOutLatency(0.02); // <= 25 ms
  metrics.fanOutLatency(2); // past 1 s: +Inf only
  metrics.limitExceeded('rate');
  metrics.limitExceeded('rate');
  metrics.limitExceeded('send_buffer');
}

describe('createMetrics', () => {
  it('renders the exact counts of a known workload', async () => {
    const metrics = createMetrics();
    workload(metrics);
    const lines = await samples(metrics.render);
    expect(lines).toEqual(
      expect.arrayContaining([
        'tether_connections{transport="websocket"} 1',
        'tether_connections{transport="sse"} 1',
        'tether_connections_opened_total{transport="websocket"} 3',
        'tether_connections_opened_total{transport="sse"} 1',
        'tether_connections_closed_total{transport="websocket",code="1000"} 1',
        'tether_connections_closed_total{transport="websocket",code="1012"} 1',
        'tether_subscriptions{transport="websocket"} 1',
        'tether_subscriptions{transport="sse"} 1',
        'tether_calls_total{transport="websocket",path="messages.send",outcome="ok"} 5',
        'tether_calls_total{transport="websocket",path="messages.send",outcome="BAD_REQUEST"} 1',
        'tether_calls_total{transport="http",path="rooms.list",outcome="ok"} 1',
        'tether_calls_total{transport="http",path="rooms.list",outcome="UNAUTHORIZED"} 1',
        'tether_bytes_received_total{transport="websocket"} 123',
        'tether_bytes_sent_total{transport="websocket"} 1024',
        'tether_bytes_sent_total{transport="sse"} 7',
        'tether_send_buffer_high_water_bytes 65536',
        'tether_limit_refusals_total{limit="rate"} 2',
        'tether_limit_refusals_total{limit="send_buffer"} 1',
      ]),
    );
    const histogram = lines.filter((line) => line.startsWith('tether_fanout_latency_seconds'));
    expect(histogram).toEqual([
      'tether_fanout_latency_seconds_bucket{le="0.0001"} 1',
      'tether_fanout_latency_seconds_bucket{le="0.00025"} 1',
      'tether_fanout_latency_seconds_bucket{le="0.0005"} 3',
      'tether_fanout_latency_seconds_bucket{le="0.001"} 3',
      'tether_fanout_latency_seconds_bucket{le="0.0025"} 3',
      'tether_fanout_latency_seconds_bucket{le="0.005"} 3',
      'tether_fanout_latency_seconds_bucket{le="0.01"} 3',
      'tether_fanout_latency_seconds_bucket{le="0.025"} 4',
      'tether_fanout_latency_seconds_bucket{le="0.05"} 4',
      'tether_fanout_latency_seconds_bucket{le="0.1"} 4',
      'tether_fanout_latency_seconds_bucket{le="0.25"} 4',
      'tether_fanout_latency_seconds_bucket{le="0.5"} 4',
      'tether_fanout_latency_seconds_bucket{le="1"} 4',
      'tether_fanout_latency_seconds_bucket{le="+Inf"} 5',
      expect.stringMatching(/^tether_fanout_latency_seconds_sum 2\.0206\d*$/),
      'tether_fanout_latency_seconds_count 5',
    ]);
    // Nothing else: no series for transports or labels the workload never used.
    expect(lines.filter((line) => !line.startsWith('tether_fanout_latency_seconds'))).toHaveLength(18);
  });

  it('keeps counting across scrapes (increments between renders add up)', async () => {
    const metrics = createMetrics();
    metrics.bytesOut('websocket', 10);
    metrics.call('websocket', 'a.b', 'ok');
    await metrics.render();
    metrics.bytesOut('websocket', 5);
    metrics.call('websocket', 'a.b', 'ok');
    metrics.connectionOpened('http');
    metrics.connectionClosed('http', 1000);
    const lines = await samples(metrics.render);
    expect(lines).toContain('tether_bytes_sent_total{transport="websocket"} 15');
    expect(lines).toContain('tether_calls_total{transport="websocket",path="a.b",outcome="ok"} 2');
    expect(lines).toContain('tether_connections{transport="http"} 0');
    expect(lines).toContain('tether_connections_closed_total{transport="http",code="1000"} 1');
  });

  it('declares each metric with its Prometheus type', async () => {
    const text = await createMetrics().render();
    const types = Object.fromEntries(
      text
        .split('\n')
        .filter((line) => line.startsWith('# TYPE tether_'))
        .map((line) => line.split(' ').slice(2)),
    );
    expect(types).toEqual({
      tether_connections: 'gauge',
      tether_connections_opened_total: 'counter',
      tether_connections_closed_total: 'counter',
      tether_subscriptions: 'gauge',
      tether_calls_total: 'counter',
      tether_bytes_received_total: 'counter',
      tether_bytes_sent_total: 'counter',
      tether_send_buffer_high_water_bytes: 'gauge',
      tether_fanout_latency_seconds: 'histogram',
      tether_limit_refusals_total: 'counter',
    });
  });

  it("includes prom-client's default process and Node metrics", async () => {
    const text = await createMetrics().render();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it("uses a registry of its own: instances do not share counts, prom-client's global registry stays empty", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.limitExceeded('rate');
    expect(await samples(a.render)).toContain('tether_limit_refusals_total{limit="rate"} 1');
    expect((await samples(b.render)).some((line) => line.startsWith('tether_limit_refusals_total'))).toBe(false);
    expect(a.registry).not.toBe(globalRegistry);
    expect(await globalRegistry.metrics()).not.toContain('tether_');
    expect(a.contentType).toMatch(/^text\/plain/);
  });

  it('takes a prefix for its own metrics only', async () => {
    const metrics = createMetrics({ prefix: 'chat_' });
    metrics.call('websocket', 'x', 'ok');
    const text = await metrics.render();
    expect(text).toContain('chat_calls_total{transport="websocket",path="x",outcome="ok"} 1');
    expect(text).not.toContain('tether_');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('caps client-chosen label values: new paths past 256 count as "other"', async () => {
    const metrics = createMetrics();
    for (let i = 0; i < 300; i++) metrics.call('websocket', `made.up${i}`, 'NOT_FOUND');
    metrics.call('websocket', 'made.up0', 'NOT_FOUND'); // seen before the cap: still its own series
    const calls = (await samples(metrics.render)).filter((line) => line.startsWith('tether_calls_total'));
    expect(calls).toHaveLength(257);
    expect(calls).toContain('tether_calls_total{transport="websocket",path="made.up0",outcome="NOT_FOUND"} 2');
    expect(calls).toContain(`tether_calls_total{transport="websocket",path="${OTHER_LABEL}",outcome="NOT_FOUND"} 44`);
  });

  it('ignores counts that are not positive finite numbers instead of throwing', async () => {
    const metrics = createMetrics();
    metrics.bytesOut('websocket', 5);
    metrics.bytesOut('websocket', -3);
    metrics.bytesOut('websocket', Number.NaN);
    metrics.fanOutLatency(-1);
    const lines = await samples(metrics.render);
    expect(lines).toContain('tether_bytes_sent_total{transport="websocket"} 5');
    expect(lines).toContain('tether_fanout_latency_seconds_count 0');
  });
});

describe('noopMetrics', () => {
  it('accepts the whole workload and records nothing', () => {
    expect(() => workload(noopMetrics)).not.toThrow();
  });
});
