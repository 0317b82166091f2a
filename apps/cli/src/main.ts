import { run } from './run';

// The real process: its streams, its environment, and Ctrl-C as the end of streaming commands.
const interrupted = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
run({
  argv: process.argv.slice(2),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  interrupted,
}).then((code) => {
  process.exitCode = code;
  // Streams are flushed; nothing else should keep the process alive.
  setImmediate(() => process.exit(code));
});
