import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const run = promisify(execFile);

/**
 * What the proxy does with a WebSocket upgrade: pass it through; strip
 * `Upgrade`, as proxies that only speak plain HTTP do (the server sees a
 * plain GET and the handshake fails); or let the upgrade through and cut the
 * tunnel as soon as it falls quiet (50 ms), as proxies that kill long-lived
 * connections do. Plain HTTP and SSE pass in every mode.
 */
export type UpgradeMode = 'pass' | 'refuse' | 'cut';

export interface NginxProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/trpc`. */
  readonly wsUrl: string;
  /** Rewrites the configuration and reloads: new connections get the new mode. */
  setMode(mode: UpgradeMode): Promise<void>;
  stop(): Promise<void>;
}

/** Where Debian installs nginx; null when it is not installed. */
export async function nginxBinary(): Promise<string | null> {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) {
    try {
      await run(candidate, ['-v']);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

function configuration(dir: string, port: number, upstreamPort: number, mode: UpgradeMode, generation: number): string {
  // Set in each location: a location with any proxy_set_header of its own inherits none from the server block.
  const forwarded = 'proxy_set_header Host $http_host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;';
  const upgrade =
    mode === 'refuse'
      ? 'proxy_set_header Upgrade ""; proxy_set_header Connection "";'
      : 'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;';
  // Only upgrades are cut: SSE streams and calls through the same proxy live as long as they like.
  const cut = mode === 'cut' ? 'if ($http_upgrade) { rewrite ^(.*)$ /__cut$1 last; }' : '';
  return `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream tether { server 127.0.0.1:${upstreamPort}; keepalive 8; }
  server {
    listen 127.0.0.1:${port};
    proxy_http_version 1.1;
    proxy_buffering off;
    proxy_read_timeout 1h;
    location = /__generation { return 200 "${generation}"; }
    location / {
      ${cut}
      ${forwarded}
      ${upgrade}
      proxy_pass http://tether;
    }
    location /__cut/ {
      internal;
      rewrite ^/__cut(.*)$ $1 break;
      ${forwarded}
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 50ms;
      proxy_pass http://tether;
    }
  }
}
`;
}

/**
 * Debian's nginx on a loopback port in front of a server on `upstreamPort`,
 * with a configuration generated here, in a directory of its own.
 */
export async function startNginxProxy(upstreamPort: number, mode: UpgradeMode): Promise<NginxProxy> {
  const binary = await nginxBinary();
  if (!binary) throw new Error('nginx is not installed (apt-get install nginx)');
  const dir = await mkdtemp(join(tmpdir(), 'tether-nginx-'));
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub));
  const conf = join(dir, 'nginx.conf');
  const port = await freePort();
  let generation = 1;
  await writeFile(conf, configuration(dir, port, upstreamPort, mode, generation));
  const args = ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')];
  const child: ChildProcess = spawn(binary, [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, exited, () => stderr);
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/trpc`,
    async setMode(next) {
      generation += 1;
      await writeFile(conf, configuration(dir, port, upstreamPort, next, generation));
      await run(binary, [...args, '-s', 'reload']);
      // The reload is asynchronous: new workers serve once the master has read the file; old ones finish their connections.
      await waitForGeneration(port, generation);
    },
    async stop() {
      child.kill('SIGTERM'); // fast shutdown: open tunnels and streams are cut
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, exited: Promise<void>, stderr: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (let i = 0; i < 200; i += 1) {
    if (gone) throw new Error(`nginx exited: ${stderr()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/__generation`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  throw new Error(`nginx did not listen on ${port}: ${stderr()}`);
}

/** Polls until a fresh connection is served by a worker of the new configuration. */
async function waitForGeneration(port: number, generation: number): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    const response = await fetch(`http://127.0.0.1:${port}/__generation`, { headers: { connection: 'close' } });
    if ((await response.text()) === String(generation)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nginx did not load configuration ${generation}`);
}
