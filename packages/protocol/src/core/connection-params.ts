import { z } from 'zod';
import { storableText } from './storable-text';

/**
 * The first WebSocket message (tRPC `connectionParams`). The token travels here,
 * never in the URL. tRPC carries connectionParams as string values only, so the
 * version is a decimal string on the wire.
 */
export const connectionParamsSchema = z.object({
  token: storableText('token').min(1).optional().describe('access token; absent for anonymous calls such as sign-in'),
  protocolVersion: z
    .string({ error: 'protocolVersion is required' })
    .regex(/^\d+$/, 'protocolVersion must be a decimal integer')
    .transform(Number)
    .describe('the PROTOCOL_VERSION the client was built against'),
  client: storableText('client').max(100).optional().describe('client name and version, for logs'),
});

/** What a client sends as connectionParams. */
export type ConnectionParams = z.input<typeof connectionParamsSchema>;
/** connectionParams after validation. */
export type ParsedConnectionParams = z.output<typeof connectionParamsSchema>;
