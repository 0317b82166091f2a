/** `base` (the tRPC endpoint, maybe with a query string) with `/path` added to its path. */
export function endpoint(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  return url;
}
