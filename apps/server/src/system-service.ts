import { PROTOCOL_VERSION, type Services } from '@tether/protocol';

export function createSystemService(options: { version: string; connectionCount: () => number }): Services['system'] {
  const startedAt = performance.now();
  return {
    async health() {
      return {
        status: 'ok',
        version: options.version,
        protocolVersion: PROTOCOL_VERSION,
        uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
        connections: options.connectionCount(),
      };
    },
  };
}
