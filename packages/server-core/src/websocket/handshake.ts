import {
  CloseCode,
  connectionParamsSchema,
  type ParsedConnectionParams,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@tether/protocol';

export type HandshakeResult =
  | { ok: true; params: ParsedConnectionParams }
  | { ok: false; code: CloseCode; reason: string };

const reject = (code: CloseCode, reason: string): HandshakeResult => ({ ok: false, code, reason });

/**
 * Checks the first WebSocket message: tRPC's `{ method: 'connectionParams', data }`
 * with a supported `protocolVersion`. Close reasons stay under the 123-byte limit.
 */
export function readHandshake(message: unknown): HandshakeResult {
  if (
    typeof message !== 'object' ||
    message === null ||
    !('method' in message) ||
    message.method !== 'connectionParams'
  ) {
    return reject(CloseCode.BadFrames, 'first message must be connectionParams');
  }
  const raw = 'data' in message ? message.data : undefined;
  const hasVersion = typeof raw === 'object' && raw !== null && 'protocolVersion' in raw;
  if (!hasVersion) return reject(CloseCode.UpgradeRequired, 'connectionParams.protocolVersion is required');
  const parsed = connectionParamsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(
      CloseCode.BadFrames,
      `bad connectionParams: ${issue?.path.join('.')} ${issue?.message}`.slice(0, 120),
    );
  }
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(parsed.data.protocolVersion)) {
    return reject(
      CloseCode.UpgradeRequired,
      `protocol version ${parsed.data.protocolVersion} unsupported; server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}: upgrade`,
    );
  }
  return { ok: true, params: parsed.data };
}
