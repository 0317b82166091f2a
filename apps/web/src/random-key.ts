/**
 * A random key for idempotency. Built from `crypto.getRandomValues`, which
 * browsers offer on every origin (`crypto.randomUUID` needs HTTPS or localhost).
 */
export function randomKey(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
