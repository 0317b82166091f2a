import {
  type AnyTRPCRouter,
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  TRPCError,
  type TRPCProcedureType,
} from '@trpc/server';

interface Call {
  path: string;
  input: unknown;
  ctx: unknown;
  type: TRPCProcedureType;
  signal?: AbortSignal;
}

/** What tRPC's middlewares receive and return (its `MiddlewareFunction`), as far as the walk needs it. */
interface MiddlewareOptions {
  ctx: unknown;
  type: TRPCProcedureType;
  path: string;
  input: unknown;
  getRawInput: () => Promise<unknown>;
  meta: unknown;
  signal: AbortSignal | undefined;
  batchIndex: number;
  next(options?: { ctx?: object; input?: unknown; getRawInput?: () => Promise<unknown> }): Promise<MiddlewareResult>;
}
type MiddlewareResult = { ok: true; data: unknown } | { ok: false; error: TRPCError };
type Middleware = (options: MiddlewareOptions) => Promise<MiddlewareResult>;
interface ProcedureDef {
  type: TRPCProcedureType;
  meta?: unknown;
  middlewares: Middleware[];
}

/** The walk's own state: what each middleware's options are built from. */
interface Step {
  ctx: unknown;
  input: unknown;
  getRawInput: () => Promise<unknown>;
}

/**
 * Calls the procedure at `path` as tRPC's `callProcedure` does, walking its
 * middleware chain exactly as tRPC's `callRecursive` walks it (each
 * middleware's options, `next` merging context and input, a throw becoming a
 * failed result), but with plain object literals: tRPC's bundled spread
 * helper copies every option through property descriptors at every step, a
 * quarter of a small call's CPU. tRPC's HTTP handler still walks its own.
 */
export function callProcedure(router: AnyTRPCRouter, call: Call): Promise<unknown> {
  const { path, input, ctx, type, signal } = call;
  const procedure = router._def.procedures[path] as { _def: ProcedureDef } | undefined;
  const getRawInput = async () => input;
  // Lazy routers load on first call: tRPC's own path knows how.
  if (!procedure && Object.keys(router._def.lazy).length > 0) {
    return callTRPCProcedure({ router, path, getRawInput, ctx, type, signal, batchIndex: 0 });
  }
  if (procedure?._def.type !== type) {
    return Promise.reject(new TRPCError({ code: 'NOT_FOUND', message: `No "${type}"-procedure on path "${path}"` }));
  }
  const def = procedure._def;
  const walk = async (index: number, step: Step): Promise<MiddlewareResult> => {
    const middleware = def.middlewares[index];
    try {
      if (!middleware) throw new Error('the middleware chain ended without a result');
      return await middleware({
        ctx: step.ctx,
        type,
        path,
        input: step.input,
        getRawInput: step.getRawInput,
        meta: def.meta,
        signal,
        batchIndex: 0,
        next: (next) =>
          walk(index + 1, {
            ctx: next?.ctx ? { ...(step.ctx as object), ...next.ctx } : step.ctx,
            input: next && 'input' in next ? next.input : step.input,
            getRawInput: next?.getRawInput ?? step.getRawInput,
          }),
      });
    } catch (cause) {
      return { ok: false, error: getTRPCErrorFromUnknown(cause) };
    }
  };
  return walk(0, { ctx, input: undefined, getRawInput }).then((result) => {
    if (!result) {
      throw new TRPCError({
        code: 'INTERNAL_SERVER_ERROR',
        message: 'No result from middlewares - did you forget to `return next()`?',
      });
    }
    if (!result.ok) throw result.error;
    return result.data;
  });
}
