import { z } from 'zod';

export const healthSchema = z.object({
  status: z.literal('ok'),
  version: z.string().describe('server version'),
  protocolVersion: z.number().int(),
  uptimeSeconds: z.number().nonnegative(),
  connections: z.number().int().nonnegative().describe('open WebSocket connections on this server process'),
  sendBufferBytes: z
    .number()
    .int()
    .nonnegative()
    .describe('bytes queued for WebSocket clients and not yet sent, over all connections of this process'),
});
export type Health = z.infer<typeof healthSchema>;
