import { fileURLToPath } from 'node:url';
import { errorMessage } from '@tether/server-core';
import { startServer } from './app';
import { loadConfig } from './env';

/** The built web app sits beside this bundle's package: apps/server/dist -> apps/web/dist. */
const defaultWebRoot = fileURLToPath(new URL('../../web/dist', import.meta.url));

async function main(): Promise<void> {
  const config = loadConfig(process.env, { webRoot: defaultWebRoot });
  const server = await startServer(config);
  process.stdout.write(
    `\n  Tether is listening on ${server.url}  (WebSocket: ${server.url.replace('http', 'ws')}/trpc)\n\n`,
  );
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    process.stderr.write(`${signal}: shutting down (again to force)\n`);
    server.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`shutdown failed: ${error.stack ?? error.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`tether server failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
