'use strict';
/**
 * Preloaded into a server under test (`NODE_OPTIONS="--expose-gc --require
 * <this file>"`), so the bench reads the server's heap and profiles it
 * without a line of server code changed.
 *
 * - SIGUSR2: two full GCs, then one JSON line on stdout,
 *   `{"event":"bench.memory","probe":<n>,...process.memoryUsage()}`, the
 *   server's log format, so spawnServer's waitForLog finds it.
 * - TETHER_BENCH_CPU_PROFILE_DIR set: V8's sampling CPU profiler runs from
 *   now until the process exits, then `<dir>/CPU.<pid>.cpuprofile` is written:
 *   what `node --cpu-prof --cpu-prof-dir=<dir>` does, which Node 20 refuses
 *   in NODE_OPTIONS. Sample timestamps are CLOCK_MONOTONIC microseconds, as
 *   `process.hrtime.bigint() / 1000n` is in any process on this machine.
 */
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

let probes = 0;
process.on('SIGUSR2', () => {
  probes += 1;
  const collect = globalThis.gc;
  if (typeof collect === 'function') {
    collect();
    collect();
  }
  const line = {
    time: new Date().toISOString(),
    level: 'info',
    event: 'bench.memory',
    probe: probes,
    gc: typeof collect === 'function',
    ...process.memoryUsage(),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
});

const profileDir = process.env.TETHER_BENCH_CPU_PROFILE_DIR;
// The main thread only: worker threads (the embedded store's) load this file too, and would write over its profile.
if (profileDir && require('node:worker_threads').isMainThread) {
  const { Session } = require('node:inspector');
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // --cpu-prof's default interval.
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // A session on the process's own thread answers synchronously, so this works in an 'exit' listener.
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) process.stderr.write(`cpu profile failed: ${error.message}\n`);
      else writeFileSync(join(profileDir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
