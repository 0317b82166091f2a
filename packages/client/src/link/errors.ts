/** The link ended (disposed, or told by the server that retrying cannot help): no request is answered. */
export class ClientClosedError extends Error {
  constructor(reason: string) {
    super(`the client is closed (${reason})`);
    this.name = 'ClientClosedError';
  }
}

/** A query or mutation's answer that will not come: its socket or HTTP request went away after it was sent. */
export class ConnectionLostError extends Error {
  constructor(path: string) {
    super(`${path}: the connection was lost before the answer came`);
    this.name = 'ConnectionLostError';
  }
}
