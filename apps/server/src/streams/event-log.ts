import superjson, { type SuperJSONResult } from 'superjson';
import type { Queryable } from '../store/store';

/** An event with its position in its stream. */
export interface SequencedEvent {
  seq: number;
}

/**
 * Appends an event to a stream inside the caller's transaction. The stream's
 * row lock serialises writers, so seqs are gap-free and commit in seq order:
 * when seq N is visible, every seq below N is visible too.
 */
export async function appendEvent<E extends SequencedEvent>(
  tx: Queryable,
  streamId: string,
  build: (seq: number, at: Date) => E,
): Promise<E> {
  const [row] = await tx.query<{ seq: number; at: Date }>(
    `INSERT INTO event_streams (stream_id, last_seq) VALUES ($1, 1)
     ON CONFLICT (stream_id) DO UPDATE SET last_seq = event_streams.last_seq + 1
     RETURNING last_seq AS seq, now() AS at`,
    [streamId],
  );
  if (!row) throw new Error(`event stream ${streamId}: no seq returned`);
  const event = build(row.seq, row.at);
  await tx.query('INSERT INTO stream_events (stream_id, seq, payload) VALUES ($1, $2, $3)', [
    streamId,
    row.seq,
    JSON.stringify(superjson.serialize(event)),
  ]);
  return event;
}

/** Events with `afterSeq < seq <= untilSeq` (or up to `limit` of them), in seq order. */
export async function readEvents<E extends SequencedEvent>(
  db: Queryable,
  streamId: string,
  range: { afterSeq: number; untilSeq?: number; limit: number },
): Promise<E[]> {
  const rows = await db.query<{ payload: SuperJSONResult }>(
    `SELECT payload FROM stream_events
     WHERE stream_id = $1 AND seq > $2 AND ($3::integer IS NULL OR seq <= $3)
     ORDER BY seq LIMIT $4`,
    [streamId, range.afterSeq, range.untilSeq ?? null, range.limit],
  );
  return rows.map((row) => superjson.deserialize<E>(row.payload));
}

/** The stream's newest seq, 0 when it has none. */
export async function lastSeq(db: Queryable, streamId: string): Promise<number> {
  const [row] = await db.query<{ last_seq: number }>('SELECT last_seq FROM event_streams WHERE stream_id = $1', [
    streamId,
  ]);
  return row?.last_seq ?? 0;
}
