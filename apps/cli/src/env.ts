import { homedir } from 'node:os';
import { join } from 'node:path';

/** The server a bare `tether` talks to. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface CliEnv {
  url: string;
  /** Colours are off when NO_COLOR is set (https://no-color.org). */
  noColor: boolean;
  /** Where credentials live: $XDG_CONFIG_HOME/tether, or ~/.config/tether. */
  configDir: string;
  /** A token to act with instead of the saved session: a service token, for CI jobs and bots. */
  token: string | undefined;
}

/** Everything the CLI reads from the environment. */
export function readEnv(env: Record<string, string | undefined>): CliEnv {
  return {
    url: env.TETHER_URL ?? DEFAULT_URL,
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== '',
    configDir: join(env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config'), 'tether'),
    token: env.TETHER_TOKEN || undefined,
  };
}
