/**
 * The wire protocol version a client declares in connectionParams.
 * Bump it on any change an older client cannot understand; the server closes
 * connections that declare an unsupported version with `CloseCode.UpgradeRequired`.
 */
export const PROTOCOL_VERSION = 4;

/** Versions this contract's server accepts. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];
