import { createAppRouter, type Services } from '@tether/protocol';
import { z } from 'zod';

export interface ProcedureInfo {
  path: string;
  type: 'query' | 'mutation' | 'subscription';
  /** JSON Schema of the input (as a caller writes it), or null for none. */
  input: JsonSchema | null;
}

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  anyOf?: JsonSchema[];
}

/**
 * Every procedure in the contract, read from the router itself, so a
 * procedure added to @tether/protocol is callable from the CLI unchanged.
 * The router is built with services that are never called.
 */
export function listProcedures(): ProcedureInfo[] {
  const unused = new Proxy({}, { get: () => new Proxy({}, { get: () => () => Promise.reject(new Error('unused')) }) });
  const router = createAppRouter(unused as Services);
  // tRPC keeps the flattened procedure map on `_def.procedures` (tRPC's own CLI integrations read it too).
  const procedures = (
    router._def as unknown as {
      procedures: Record<string, { _def: { type: ProcedureInfo['type']; inputs: unknown[] } }>;
    }
  ).procedures;
  return Object.entries(procedures)
    .map(([path, procedure]) => {
      const schema = procedure._def.inputs[0];
      const input =
        schema instanceof z.ZodType
          ? (z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema)
          : null;
      return { path, type: procedure._def.type, input };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}
