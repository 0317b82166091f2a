import type { TRPCClient, TRPCRequestOptions, TRPCUntypedClient } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

/** Where tRPC's `getUntypedClient` (which `@trpc/tanstack-react-query` uses) finds the client behind a typed one. */
const UNTYPED_CLIENT = Symbol.for('trpc_untypedClient');

const PROCEDURE_TYPES: Record<string, 'query' | 'mutation' | 'subscription' | undefined> = {
  query: 'query',
  mutate: 'mutation',
  subscribe: 'subscription',
};

type Untyped = TRPCUntypedClient<AnyTRPCRouter>;

/** One property path (`rooms.events.subscribe`): its parts, and the paths one property further, once asked for. */
interface PathNode {
  readonly parts: readonly string[];
  /** The procedure's path when this one is called (`rooms.events`), joined once. */
  readonly procedurePath: string;
  readonly children: Map<string, unknown>;
}

function pathNode(parts: readonly string[]): PathNode {
  return { parts, procedurePath: parts.slice(0, -1).join('.'), children: new Map() };
}

function call(client: Untyped, node: PathNode, args: unknown[]): unknown {
  const last = node.parts.at(-1) ?? '';
  // As tRPC's proxy: `fn.call(self, input)` and `fn.apply(self, [input])` call `fn`; `String(fn)` names it.
  if (last === 'call') return call(client, pathNode(node.parts.slice(0, -1)), args.slice(1, 2));
  if (last === 'apply') return call(client, pathNode(node.parts.slice(0, -1)), (args[1] as unknown[]) ?? []);
  if (last === 'valueOf' || last === 'toString' || last === 'toJSON') return `tRPC.proxy(${node.procedurePath})`;
  const type = PROCEDURE_TYPES[last];
  if (!type) throw new TypeError(`${node.parts.join('.')}: call a procedure with .query, .mutate or .subscribe`);
  const [input, opts] = args;
  if (type === 'subscription') {
    return client.subscription(node.procedurePath, input, opts as Parameters<Untyped['subscription']>[2]);
  }
  return client[type](node.procedurePath, input, opts as TRPCRequestOptions | undefined);
}

function pathProxy(client: Untyped, node: PathNode): unknown {
  return new Proxy(() => {}, {
    get(_target, key) {
      if (key === UNTYPED_CLIENT && node.parts.length === 0) return client;
      // Not a thenable, so `await client.rooms` does not call `rooms.then`.
      if (typeof key !== 'string' || key === 'then') return undefined;
      let child = node.children.get(key);
      if (child === undefined) {
        child = pathProxy(client, pathNode([...node.parts, key]));
        node.children.set(key, child);
      }
      return child;
    },
    apply(_target, _self, args: unknown[]) {
      return call(client, node, args);
    },
  });
}

/**
 * tRPC's typed client (`client.rooms.list.query()`) over `client`, as tRPC's
 * `createTRPCClientProxy` makes it, except that each property path's proxy is
 * made once and kept: tRPC's builds the path, its string and frozen copies
 * again on every property read and call, about a tenth of a small call's
 * client-side CPU.
 */
export function createTypedProxy<TRouter extends AnyTRPCRouter>(client: Untyped): TRPCClient<TRouter> {
  return pathProxy(client, pathNode([])) as TRPCClient<TRouter>;
}
