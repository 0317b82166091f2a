import { randomBytes } from 'node:crypto';
import type { ChatRoom } from './chat-clients';
import { type LoopBounds, type LoopResult, runClosedLoop } from './closed-loop';

export interface SendScenario {
  label: string;
  /** How many of the room's connections send. */
  connections: number;
  /** Sends each of them keeps in flight. */
  inFlightPerConnection: number;
}

export const SCENARIOS: readonly SendScenario[] = [
  { label: '64 in flight / 1 connection', connections: 1, inFlightPerConnection: 64 },
  { label: '100 connections, 1 in flight each', connections: 100, inFlightPerConnection: 1 },
];

const BODY_BYTES = 100;

/** A ~100-byte message body; the number keeps bodies distinct, as real ones are. */
export function messageBody(n: number): string {
  return `bench message ${n} `.padEnd(BODY_BYTES, 'x');
}

/** Keys unique across runs and scenarios: a repeated key would be answered from the idempotency table, unwritten. */
const run = randomBytes(4).toString('hex');
let scenarioRuns = 0;

/** Runs `scenario` against `room` in closed loops, each send with a unique idempotency key. */
export function runSends(room: ChatRoom, scenario: SendScenario, bounds: LoopBounds): Promise<LoopResult> {
  const clients = room.clients.slice(0, scenario.connections);
  if (clients.length < scenario.connections) throw new Error(`${scenario.label}: room has too few connections`);
  const prefix = `bench-${run}-${scenarioRuns++}`;
  const workers = scenario.connections * scenario.inFlightPerConnection;
  return runClosedLoop(workers, bounds, (worker, n) => {
    const client = clients[worker % clients.length];
    if (!client) throw new Error(`no connection for worker ${worker}`);
    return room.send(client, messageBody(n), `${prefix}-${n}`);
  });
}
