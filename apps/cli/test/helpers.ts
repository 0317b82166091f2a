import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../dist/tether.js', import.meta.url));

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A home of its own for each test user: credentials never leak between tests. */
export async function freshConfigHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tether-cli-'));
}

export function cliEnv(url: string, configHome: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: configHome, XDG_CONFIG_HOME: configHome, TETHER_URL: url };
}

/** Starts the built `tether` binary; for long-running commands (tail). */
export function startTether(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs the built `tether` binary to completion, as a script would. */
export function tether(args: string[], env: Record<string, string>, input = ''): Promise<Result> {
  const started = performance.now();
  const child = startTether(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdin?.end(input);
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** Parses NDJSON output. */
export const lines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
