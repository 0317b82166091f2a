import { PROTOCOL_VERSION, type Services } from '@tether/protocol';

export interface TransportGauges {
  connectionCount: number;
  /** Unsent bytes over all connections. */
  sendBufferBytes: number;
}

export function createSystemService(options: { version: string; gauges: () => TransportGauges }): Services['system'] {
  const startedAt = performance.now();
  return {
    async health() {
      return {
        status: 'ok',
        version: options.version,
        protocolVersion: PROTOCOL_VERSION,
        uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
        connections: options.gauges().connectionCount,
        sendBufferBytes: options.gauges().sendBufferBytes,
      };
    },
  };
}
