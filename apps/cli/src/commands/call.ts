import { NotSignedInError, UsageError } from '../errors';
import { type StreamHandlers, streamUntilInterrupted } from '../stream';
import type { Command } from './command';

/** Turns `--field value` pairs into input, typed by the procedure's JSON Schema. */
function inputFromFlags(args: string[], schema: import('../contract').JsonSchema | null): unknown {
  const input: Record<string, unknown> = {};
  const properties = schema?.properties ?? {};
  for (let i = 0; i < args.length; i += 1) {
    const flag = args[i] as string;
    if (!flag.startsWith('--')) throw new UsageError(`unexpected argument "${flag}"`);
    const [name, inline] = flag.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const property = properties[name];
    if (!property) throw new UsageError(`unknown field --${name}; see \`tether call PROCEDURE --help\``);
    const type = Array.isArray(property.type) ? property.type[0] : property.type;
    const raw = inline ?? (type === 'boolean' && !args[i + 1]?.match(/^(true|false)$/) ? 'true' : args[++i]);
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    input[name] =
      type === 'number' || type === 'integer'
        ? Number(raw)
        : type === 'boolean'
          ? raw !== 'false'
          : type === 'object' || type === 'array'
            ? JSON.parse(raw)
            : raw;
  }
  return Object.keys(input).length > 0 || schema ? input : undefined;
}

function fieldHelp(schema: import('../contract').JsonSchema | null): string {
  const properties = Object.entries(schema?.properties ?? {});
  if (properties.length === 0) return '  (no input)';
  const required = new Set(schema?.required ?? []);
  return properties
    .map(([name, property]) => {
      const type = property.enum ? property.enum.join('|') : [property.type].flat().join('|') || 'value';
      const notes = [
        required.has(name) ? 'required' : 'optional',
        property.default !== undefined ? `default ${JSON.stringify(property.default)}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return `  --${name} <${type}>  ${property.description ?? ''} (${notes})`;
    })
    .join('\n');
}

export const call: Command = async (ctx, args) => {
  const { listProcedures } = await import('../contract');
  const procedures = listProcedures();
  const [path, ...rest] = args;
  const { output } = ctx;
  if (!path || path === '--help' || path === '-h') {
    const list = procedures.map((p) => `  ${p.path.padEnd(18)} ${p.type}`).join('\n');
    const usage = `Usage: tether call PROCEDURE [--input JSON | --FIELD VALUE ...]\n\nProcedures:\n${list}`;
    if (!path) throw new UsageError(usage);
    return output.line(usage);
  }
  const procedure = procedures.find((p) => p.path === path);
  if (!procedure) throw new UsageError(`no procedure "${path}"; \`tether call --help\` lists them`);
  if (rest.includes('--help') || rest.includes('-h')) {
    return output.line(
      `Usage: tether call ${path} [--input JSON | --FIELD VALUE ...]   (${procedure.type})\n\nFields:\n${fieldHelp(procedure.input)}`,
    );
  }
  const inputIndex = rest.indexOf('--input');
  const input = inputIndex >= 0 ? JSON.parse(rest[inputIndex + 1] ?? 'null') : inputFromFlags(rest, procedure.input);

  if (procedure.type === 'subscription') {
    const client = await ctx.live();
    try {
      // The contract is typed; a path chosen at run time is not, so this one call goes through the untyped client.
      const target = path
        .split('.')
        .reduce<Record<string, unknown>>(
          (node, key) => node[key] as Record<string, unknown>,
          client.trpc as unknown as Record<string, unknown>,
        );
      const subscribe = target.subscribe as (
        input: unknown,
        handlers: StreamHandlers<unknown>,
      ) => { unsubscribe(): void };
      await streamUntilInterrupted<unknown>(
        ctx.io,
        (handlers) => subscribe(input, handlers),
        (value) => (output.json ? output.data(value) : output.line(JSON.stringify(value, null, 2))),
      );
    } finally {
      await client.dispose();
    }
    return;
  }
  const api = await ctx.api().catch((error: unknown) => {
    if (error instanceof NotSignedInError) return ctx.anonymous();
    throw error;
  });
  const target = path
    .split('.')
    .reduce<Record<string, unknown>>(
      (node, key) => node[key] as Record<string, unknown>,
      api as unknown as Record<string, unknown>,
    );
  const result = await (
    target[procedure.type === 'query' ? 'query' : 'mutate'] as (input: unknown) => Promise<unknown>
  )(input);
  if (output.json) output.data(result ?? null);
  else output.line(result === undefined ? 'done' : JSON.stringify(result, null, 2));
};
