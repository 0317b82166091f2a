import { PROTOCOL_VERSION } from '@tether/protocol/wire';
import { parseCommand } from '../args';
import type { Command } from './command';

export const status: Command = async (ctx, args) => {
  if (
    !parseCommand(
      args,
      {
        usage:
          "Usage: tether status\n  Server health, version, round-trip latency, and whether it speaks this CLI's protocol.",
      },
      ctx.output.line,
    )
  )
    return;
  const api = ctx.anonymous();
  // The best of three round trips: the first includes opening the connection.
  const latencies: number[] = [];
  let health = await api.connection.health.query();
  for (let i = 0; i < 3; i += 1) {
    const started = performance.now();
    health = await api.connection.health.query();
    latencies.push(performance.now() - started);
  }
  const latencyMs = Math.round(Math.min(...latencies) * 10) / 10;
  const supported = health.protocolVersion === PROTOCOL_VERSION;
  const report = { url: ctx.url, ...health, latencyMs, cliProtocolVersion: PROTOCOL_VERSION, supported };
  if (ctx.output.json) ctx.output.data(report);
  else {
    const { style } = ctx.output;
    ctx.output.line(`${style.bold(ctx.url)}  ${style.green(health.status)}`);
    ctx.output.line(`version      ${health.version}`);
    ctx.output.line(
      `protocol     ${health.protocolVersion} (this CLI: ${PROTOCOL_VERSION}, ${supported ? 'supported' : style.red('not supported: upgrade')})`,
    );
    ctx.output.line(`latency      ${latencyMs} ms`);
    ctx.output.line(`uptime       ${health.uptimeSeconds} s, ${health.connections} WebSocket connections`);
  }
  if (!supported)
    throw new Error(`the server speaks protocol ${health.protocolVersion}; this CLI speaks ${PROTOCOL_VERSION}`);
};
