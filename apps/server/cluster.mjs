// `pnpm cluster [--nodes N] [--port P] [--node-ports-from Q]`: N server processes on ports P+1..P+N (or Q..), on the PostgreSQL at
// DATABASE_URL and the Redis at REDIS_URL, behind Debian's nginx on P (round robin, no stickiness).
// The nginx configuration is the one docs/ARCHITECTURE.md shows. Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    port: { type: 'string', default: '3000' },
    // The first node's port (the others follow it); 0: any free ones.
    'node-ports-from': { type: 'string' },
  },
});
const nodes = Number(values.nodes);
const port = Number(values.port);
const nodePortsFrom = values['node-ports-from'] === undefined ? port + 1 : Number(values['node-ports-from']);
const fail = (message) => {
  console.error(`cluster: ${message}`);
  process.exit(2);
};
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) fail('--nodes is a whole number from 1 to 16');
if (!Number.isInteger(port) || port < 1 || port + nodes > 65535)
  fail('--port is a free port, with the next --nodes free too');
if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  fail('needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis): every node shares both');
}
const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
if (!nginx) fail('needs nginx (Debian: apt-get install nginx)');

const here = fileURLToPath(new URL('.', import.meta.url));
// One secret for every node: a token one signs is good on the others. Set TETHER_TOKEN_SECRET to keep sessions across runs.
const tokenSecret = process.env.TETHER_TOKEN_SECRET ?? randomBytes(32).toString('base64url');
const host = process.env.HOST ?? '127.0.0.1';

/** The configuration docs/ARCHITECTURE.md shows: WebSocket upgrades passed through, no buffering, round robin. */
function nginxConfiguration(dir, listen, upstreams) {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream tether {
${upstreams.map((upstream) => `    server ${upstream} max_fails=1 fail_timeout=5s;`).join('\n')}
  }
  server {
    listen ${listen};
    location / {
      proxy_pass http://tether;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout http_502 http_503;
    }
  }
}
`;
}

/** Nodes stop gracefully (drain, reconnect notices) within this; past it they are killed. */
const STOP_GRACE_MS = 15_000;
const children = [];
const running = (child) => child.exitCode === null && child.signalCode === null;
let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // One SIGTERM each: the children are in process groups of their own, so a Ctrl-C reaches this process alone
  // (a second signal would make a node skip its drain).
  for (const child of children) if (running(child)) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children) if (running(child)) child.kill('SIGKILL');
  }, STOP_GRACE_MS);
  await Promise.all(
    children.map((child) => new Promise((resolve) => (running(child) ? child.once('exit', resolve) : resolve()))),
  );
  clearTimeout(force);
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stopAll(0));
// However this process ends (a crash, a closed pipe), nothing it started outlives it.
process.on('exit', () => {
  for (const child of children) if (running(child)) child.kill('SIGKILL');
});

const dir = await mkdtemp(join(tmpdir(), 'tether-cluster-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub));

/** Starts one node and resolves once it logs `server.listening`. */
function startNode(index) {
  const nodePort = nodePortsFrom === 0 ? 0 : nodePortsFrom + index;
  const child = spawn(process.execPath, [join(here, 'dist/main.js')], {
    env: {
      ...process.env,
      HOST: host,
      PORT: String(nodePort),
      TETHER_TOKEN_SECRET: tokenSecret,
      TETHER_DATA_DIR: join(dir, `node-${index + 1}`),
      // Behind nginx on this machine: the address of each call is the client's, from X-Forwarded-For.
      TETHER_TRUSTED_PROXIES: process.env.TETHER_TRUSTED_PROXIES ?? '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      // Read until the node says it listens; after that its output only passes through.
      if (buffered === null) return;
      buffered += chunk;
      // The line main.js prints once it listens, whatever the log level.
      const listening = /Tether is listening on http:\/\/(\S+)/.exec(buffered);
      if (listening) {
        buffered = null;
        resolve({ upstream: listening[1], pid: child.pid });
      }
    });
    child.once('exit', (code) => {
      if (!stopping) {
        console.error(`cluster: node ${index + 1} exited (${code})`);
        reject(new Error(`node ${index + 1} exited`));
      }
    });
  });
}

try {
  // The first node migrates the database; the others start once it has.
  const started = [await startNode(0)];
  started.push(...(await Promise.all(Array.from({ length: nodes - 1 }, (_, i) => startNode(i + 1)))));
  const upstreams = started.map((node) => node.upstream);
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, nginxConfiguration(dir, `${host}:${port}`, upstreams));
  const proxy = spawn(nginx, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  children.push(proxy);
  proxy.once('exit', (code) => {
    if (!stopping) {
      console.error(`cluster: nginx exited (${code})`);
      void stopAll(1);
    }
  });
  console.log(
    JSON.stringify({
      event: 'cluster.listening',
      url: `http://${host}:${port}`,
      nodes: started.map(({ upstream, pid }) => ({ url: `http://${upstream}`, pid })),
    }),
  );
} catch (error) {
  console.error(`cluster: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
}
