import type { Migration } from './migrate';

/**
 * Tables the plumbing needs whatever the domain: the event log (the replay
 * source for resumable subscriptions) and idempotency records.
 */
export const PLUMBING_MIGRATIONS: readonly Migration[] = [
  {
    id: 'plumbing-001-event-log',
    sql: `
      CREATE TABLE event_streams (
        stream_id text PRIMARY KEY,
        last_seq integer NOT NULL
      );
      CREATE TABLE stream_events (
        stream_id text NOT NULL,
        seq integer NOT NULL,
        payload jsonb NOT NULL,
        PRIMARY KEY (stream_id, seq)
      );`,
  },
  {
    id: 'plumbing-002-idempotency',
    sql: `
      CREATE TABLE idempotency_keys (
        principal_id text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (principal_id, key)
      );
      CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);`,
  },
];
