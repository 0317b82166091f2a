import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors';

/** Shared shape of a command: it reads its own arguments and prints its own usage. */
export interface CommandSpec<O extends NonNullable<ParseArgsConfig['options']>> {
  usage: string;
  options?: O;
  /** Positional arguments: at least `min`, at most `max`. */
  positionals?: { min: number; max: number };
}

/** Parses a command's arguments strictly; `--help` prints its usage and ends the command. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  spec: CommandSpec<O>,
  print: (text: string) => void,
) {
  let parsed: ReturnType<
    typeof parseArgs<{
      args: string[];
      options: O & { help: { type: 'boolean'; short: 'h' } };
      allowPositionals: true;
      strict: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args,
      options: { ...(spec.options as O), help: { type: 'boolean', short: 'h' } } as O & {
        help: { type: 'boolean'; short: 'h' };
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${spec.usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    print(spec.usage);
    return null;
  }
  const { min = 0, max = Number.POSITIVE_INFINITY } = spec.positionals ?? {};
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    throw new UsageError(`wrong number of arguments\n\n${spec.usage}`);
  }
  return parsed;
}

/**
 * Splits `tether GROUP ACTION ...` (rooms, tokens): null when the group's
 * usage was asked for and printed; a UsageError when no action was given.
 */
export function subcommand(args: string[], usage: string, print: (text: string) => void): [string, string[]] | null {
  const [action, ...rest] = args;
  if (!action) throw new UsageError(usage);
  if (action === '--help' || action === '-h') {
    print(usage);
    return null;
  }
  return [action, rest];
}
