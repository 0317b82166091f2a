import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The server as users run it: the built bundle (apps/server/dist/main.js,
 * built by turbo before the tests that use it), serving the built web app.
 * Referenced by path only: nothing here imports server code.
 */
const SERVER_BUNDLE = fileURLToPath(new URL('../../../apps/server/dist/main.js', import.meta.url));
const WEB_ROOT = fileURLToPath(new URL('../../../apps/web/dist', import.meta.url));

/** What a spawned process needs to run; nothing else of the test runner's environment leaks in. */
const processBase = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  tokenSecret: string;
  child: ChildProcess;
  exited: Promise<void>;
}

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

/** Starts a server on a free loopback port, or (with `reuse`) restarts one on the same port, data and secret. */
export async function startServer(
  reuse?: { port: number; dataDir: string; tokenSecret: string },
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const dataDir = reuse?.dataDir ?? (await mkdtemp(join(tmpdir(), 'tether-e2e-')));
  dirs.add(dataDir);
  const tokenSecret = reuse?.tokenSecret ?? randomBytes(32).toString('base64url');
  const child = spawn(process.execPath, [SERVER_BUNDLE], {
    env: {
      ...processBase,
      HOST: '127.0.0.1',
      PORT: String(reuse?.port ?? 0),
      TETHER_DATA_DIR: dataDir,
      TETHER_TOKEN_SECRET: tokenSecret,
      TETHER_WEB_ROOT: WEB_ROOT,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
  });
  return { url, port: Number(new URL(url).port), dataDir, tokenSecret, child, exited };
}

/** Ends every server this run started and removes their data. */
export async function stopAllServers(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([...dirs].map((dir) => rm(dir, { recursive: true, force: true })));
  dirs.clear();
}
