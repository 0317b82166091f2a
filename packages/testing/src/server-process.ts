import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The server as users run it: the built bundle (turbo builds it before the
 * tests that use it), serving the built web app. Referenced by path only:
 * nothing here imports server code.
 */
const BUNDLE = fileURLToPath(new URL('../../../apps/server/dist/main.js', import.meta.url));
const WEB_ROOT = fileURLToPath(new URL('../../../apps/web/dist', import.meta.url));

/** What a spawned process needs to run; nothing else of the test runner's environment leaks in (no DATABASE_URL: PGlite). */
const processBase = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

export interface LogLine {
  time: string;
  level: string;
  event: string;
  [field: string]: unknown;
}

export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly dataDir: string;
  readonly tokenSecret: string;
  /** The environment it was spawned with beyond the base (`respawn` reuses it). */
  readonly env: Record<string, string>;
  readonly logs: LogLine[];
  /** The first log line (past or future) matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean): Promise<LogLine>;
  signal(signal: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resident and peak resident memory, from /proc. */
  memory(): Promise<{ rssBytes: number; peakRssBytes: number }>;
}

export interface SpawnOptions {
  /** Reuse a data dir (a restart); a fresh temporary one otherwise. */
  dataDir?: string;
  /** Reuse a port (a restart); a free one otherwise. */
  port?: number;
  tokenSecret?: string;
  env?: Record<string, string>;
  /**
   * Runs the server in a private mount namespace (`unshare --mount`, so root
   * only) with a fresh tmpfs of this size mounted on its data dir: a disk that
   * can be filled without touching the machine's. The mount exists only in
   * that namespace and vanishes with the process; `nsenter --target <pid>
   * --mount` reaches it from outside. A restart on the same data dir starts
   * from an empty tmpfs.
   */
  mountTmpfs?: { sizeMiB: number };
}

/**
 * `argv` in a mount namespace of its own with a tmpfs of `sizeMiB` on `dir`;
 * exec'd, so its pid (signals, /proc, nsenter) is the process's own.
 */
function inPrivateTmpfs(sizeMiB: number, dir: string, argv: string[]): { command: string; args: string[] } {
  const script = 'mount -t tmpfs -o "size=$1m,mode=0700" tether-data "$2" && shift 2 && exec "$@"';
  return {
    command: 'unshare',
    args: ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', String(Math.ceil(sizeMiB)), dir, ...argv],
  };
}

const spawned = new Set<ChildProcess>();
const ownedDirs = new Set<string>();

/** With TETHER_TEST_CPU_PROF=<dir>, each server a test spawns writes a CPU profile there as it exits (to profile under real load). */
function profiling(): string[] {
  const dir = process.env.TETHER_TEST_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** A real server process (`node dist/main.js`) on loopback, ready when it logs `server.listening`. */
export async function spawnServer(options: SpawnOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'tether-proc-')));
  if (!options.dataDir) ownedDirs.add(dataDir);
  const tokenSecret = options.tokenSecret ?? randomBytes(32).toString('base64url');
  const node = [process.execPath, ...profiling(), BUNDLE];
  const { command, args } = options.mountTmpfs
    ? inPrivateTmpfs(options.mountTmpfs.sizeMiB, dataDir, node)
    : { command: process.execPath, args: node.slice(1) };
  const child = spawn(command, args, {
    env: {
      ...processBase,
      HOST: '127.0.0.1',
      PORT: String(options.port ?? 0),
      TETHER_DATA_DIR: dataDir,
      TETHER_TOKEN_SECRET: tokenSecret,
      TETHER_SHUTDOWN_DRAIN_MS: '200',
      // Tests sign many people up from one address; the sign-in limit has tests of its own that set it.
      TETHER_SIGN_INS_PER_MINUTE: '100000',
      TETHER_PASSWORD_HASHES_WAITING: '100000',
      // Tests write fast from few accounts; the per-user write limits have tests of their own that set them.
      TETHER_WRITES_PER_MINUTE: '10000000',
      TETHER_ROOMS_PER_HOUR: '100000',
      TETHER_REPLAY_BYTES_PER_SECOND: '100000000000',
      TETHER_REPLAY_BYTE_BURST: '100000000000',
      TETHER_WEB_ROOT: WEB_ROOT,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': by then stderr has been read to the end, so a refusal's reason is in it.
    child.once('close', (code, signal) => {
      spawned.delete(child);
      resolve({ code, signal });
    });
    // A command that could not be started (no `unshare`) never exits.
    child.once('error', (error) => {
      stderr += `${error.message}\n`;
      spawned.delete(child);
      resolve({ code: null, signal: null });
    });
  });

  const logs: LogLine[] = [];
  const waiters: Array<{ predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    if (!text.startsWith('{')) return;
    const line = JSON.parse(text) as LogLine;
    logs.push(line);
    for (const waiter of waiters.filter((w) => w.predicate(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const waitForLog = (predicate: (line: LogLine) => boolean) => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve) => waiters.push({ predicate, resolve }));
  };

  const listening = await Promise.race([
    waitForLog((line) => line.event === 'server.listening'),
    exited.then(({ code, signal }) => {
      throw new Error(`server exited (${code ?? signal}) before listening:\n${stderr}`);
    }),
  ]);
  const url = String(listening.url);
  const port = Number(new URL(url).port);
  const pid = child.pid ?? -1;
  return {
    pid,
    port,
    url,
    wsUrl: `${url.replace('http', 'ws')}/trpc`,
    dataDir,
    env: options.env ?? {},
    tokenSecret,
    logs,
    waitForLog,
    signal: (signal) => child.kill(signal),
    exited,
    async memory() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
      return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
    },
  };
}

/** Restarts on the same port, data dir, secret and environment (unless given another), as an operator would. */
export function respawn(previous: ServerProcess, env: Record<string, string> = previous.env): Promise<ServerProcess> {
  return spawnServer({ dataDir: previous.dataDir, port: previous.port, tokenSecret: previous.tokenSecret, env });
}

/** Kills every process this file spawned and removes their data: tests end self-contained. */
export async function killAllServers(): Promise<void> {
  await Promise.all(
    [...spawned].map(async (child) => {
      child.kill('SIGCONT');
      // A profiled server is asked to stop, so that it writes its profile; given 10 s for it.
      if (process.env.TETHER_TEST_CPU_PROF && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([once(child, 'exit'), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      }
      child.kill('SIGKILL');
    }),
  );
  await Promise.all(
    [...ownedDirs].map((dir) => rm(dir, { recursive: true, force: true }).then(() => ownedDirs.delete(dir))),
  );
}
