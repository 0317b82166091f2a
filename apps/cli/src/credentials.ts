import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthSession } from '@tether/protocol';
import superjson from 'superjson';

/** Sessions per server URL, in one file only its owner can read. */
export function createCredentials(configDir: string) {
  const file = join(configDir, 'credentials.json');
  async function readAll(): Promise<Record<string, AuthSession>> {
    try {
      return superjson.parse<Record<string, AuthSession>>(await readFile(file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  }
  async function writeAll(all: Record<string, AuthSession>): Promise<void> {
    await mkdir(configDir, { recursive: true, mode: 0o700 });
    if (Object.keys(all).length === 0) return rm(file, { force: true });
    await writeFile(file, superjson.stringify(all), { mode: 0o600 });
  }
  return {
    file,
    async get(url: string): Promise<AuthSession | null> {
      return (await readAll())[url] ?? null;
    },
    async set(url: string, session: AuthSession | null): Promise<void> {
      const all = await readAll();
      if (session) all[url] = session;
      else delete all[url];
      await writeAll(all);
    },
  };
}

export type Credentials = ReturnType<typeof createCredentials>;
