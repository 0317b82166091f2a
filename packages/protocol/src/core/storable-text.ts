import { z } from 'zod';

/**
 * PostgreSQL text cannot hold NUL (U+0000), and JSON with an unpaired surrogate
 * is refused by its jsonb, so no string the server may store or log contains either.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this refuses.
const STORABLE_TEXT = /^[^\u0000\uD800-\uDFFF]*$/u;

/** A string the server can store: free of NUL and unpaired surrogates (`field` names it in the message). */
export function storableText(field: string) {
  return z
    .string()
    .regex(STORABLE_TEXT, `${field} must not contain the NUL character (U+0000) or unpaired surrogate code units`);
}
