import { z } from 'zod';

export const healthSchema = z.object({
  status: z.literal('ok'),
  version: z.string().describe('server version'),
  protocolVersion: z.number().int(),
  uptimeSeconds: z.number().nonnegative(),
  connections: z.number().int().nonnegative().describe('open WebSocket connections on this server process'),
});
export type Health = z.infer<typeof healthSchema>;
