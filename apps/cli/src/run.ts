import { PROTOCOL_VERSION } from '@tether/protocol/wire';
import packageJson from '../package.json' with { type: 'json' };
import type { Command } from './commands/command';
import { type CommandIo, createContext } from './context';
import { createCredentials } from './credentials';
import { readEnv } from './env';
import { describeFailure, ExitCode, UsageError } from './errors';
import { HELP } from './help';
import { createOutput } from './output';

/** Each command's module is loaded only when that command runs, so `--help` loads none. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  login: () => import('./commands/auth').then((m) => m.login),
  logout: () => import('./commands/auth').then((m) => m.logout),
  whoami: () => import('./commands/auth').then((m) => m.whoami),
  rooms: () => import('./commands/rooms').then((m) => m.rooms),
  send: () => import('./commands/messages').then((m) => m.send),
  history: () => import('./commands/messages').then((m) => m.history),
  tail: () => import('./commands/tail').then((m) => m.tail),
  call: () => import('./commands/call').then((m) => m.call),
  import: () => import('./commands/import').then((m) => m.importFile),
  status: () => import('./commands/status').then((m) => m.status),
  tokens: () => import('./commands/tokens').then((m) => m.tokens),
  completion: () => import('./commands/completion').then((m) => m.completion),
};

export interface RunIo extends CommandIo {
  argv: string[];
  env: Record<string, string | undefined>;
}

/** Global options may stand anywhere; everything else goes to the command. */
function splitGlobalOptions(argv: string[]) {
  const rest: string[] = [];
  let url: string | undefined;
  let json = false;
  let version = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--json') json = true;
    else if (arg === '--version') version = true;
    else if (arg === '--url') {
      url = argv[++i];
      if (!url) throw new UsageError('--url needs a value');
    } else if (arg.startsWith('--url=')) url = arg.slice('--url='.length);
    else rest.push(arg);
  }
  return { url, json, version, command: rest[0], args: rest.slice(1) };
}

/** The whole CLI, with its side effects passed in (tests run it in process). Returns the exit code. */
export async function run(io: RunIo): Promise<number> {
  const env = readEnv(io.env);
  let url = env.url;
  try {
    const global = splitGlobalOptions(io.argv);
    url = (global.url ?? env.url).replace(/\/+$/, '');
    if (global.version) {
      io.stdout.write(`tether ${packageJson.version} (protocol ${PROTOCOL_VERSION})\n`);
      return ExitCode.Ok;
    }
    if (!global.command || global.command === '--help' || global.command === '-h' || global.command === 'help') {
      io.stdout.write(HELP);
      return global.command || io.argv.length === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const load = COMMANDS[global.command];
    if (!load) throw new UsageError(`unknown command "${global.command}"; see \`tether --help\``);
    const color = !env.noColor && Boolean(io.stdout.isTTY) && !global.json;
    const output = createOutput(io.stdout, io.stderr, { json: global.json, color });
    const command = await load();
    await command(createContext(url, output, createCredentials(env.configDir), io, env.token), global.args);
    return ExitCode.Ok;
  } catch (error) {
    const failure = describeFailure(error, url);
    io.stderr.write(`tether: ${failure.message}\n${failure.hint ? `hint: ${failure.hint}\n` : ''}`);
    return failure.code;
  }
}
