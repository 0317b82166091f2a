/**
 * The web app is one script and one stylesheet from its own origin (Vite's
 * build: no inline `<script>` or `<style>`, no `style=""` in its markup; React
 * sets styles through the DOM, which CSP allows), so everything it loads can
 * be `'self'`, and a script injected into a page has nowhere to come from nor
 * to send to.
 */
function contentSecurityPolicy(publicOrigins: readonly string[]): string {
  // CSP Level 3 counts the page's own ws:/wss: as 'self'; earlier browsers did not,
  // so the socket of each public origin (the page's own, once deployed) is named too.
  const sockets = publicOrigins.map((origin) => {
    const url = new URL(origin);
    return `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}`;
  });
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src ${["'self'", ...sockets].join(' ')}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** The headers of the web app's responses (pages and assets). */
export function webAppHeaders(publicOrigins: readonly string[] = []): Readonly<Record<string, string>> {
  return {
    'content-security-policy': contentSecurityPolicy(publicOrigins),
    // frame-ancestors' forerunner, for browsers that predate it.
    'x-frame-options': 'DENY',
    // No address of the app reaches another site, and its own requests keep their origin. Not
    // `no-referrer`: under it the Fetch standard sends `Origin: null` on the app's own POSTs
    // (a sign-in over HTTP), which the origin check refuses.
    'referrer-policy': 'same-origin',
    // A page of another site that opens the app gets no handle on its window.
    'cross-origin-opener-policy': 'same-origin',
  };
}
