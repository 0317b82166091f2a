import superjson, { type SuperJSONResult } from 'superjson';
import type { Queryable } from '../store/store';

/** An event with its position in its stream. */
export interface SequencedEvent {
  seq: number;
}

/** One event to append: its stream, and how to build it once its seq and commit time are known. */
export interface Append<E extends SequencedEvent> {
  streamId: string;
  build(seq: number, at: Date): E;
}

/**
 * Appends events to their streams inside the caller's transaction, in two
 * statements however many there are. Each stream's row lock serialises
 * writers, so seqs are gap-free and commit in seq order: when seq N is
 * visible, every seq below N is visible too. Streams are locked in id order,
 * so two batches never wait on each other in a cycle. Events of one stream get
 * consecutive seqs in the order given.
 */
export async function appendEvents<E extends SequencedEvent>(
  tx: Queryable,
  appends: ReadonlyArray<Append<E>>,
): Promise<E[]> {
  if (appends.length === 0) return [];
  const counts = new Map<string, number>();
  for (const { streamId } of appends) counts.set(streamId, (counts.get(streamId) ?? 0) + 1);
  const heads = await tx.query<{ stream_id: string; last_seq: number; at: Date }>(
    `INSERT INTO event_streams AS s (stream_id, last_seq)
     SELECT stream_id, count FROM jsonb_to_recordset($1::jsonb) AS t(stream_id text, count integer)
     ORDER BY stream_id
     ON CONFLICT (stream_id) DO UPDATE SET last_seq = s.last_seq + excluded.last_seq
     RETURNING stream_id, last_seq, now() AS at`,
    [JSON.stringify([...counts].map(([stream_id, count]) => ({ stream_id, count })))],
  );
  // One transaction, one now(): every event appended here carries the same commit time.
  const at = heads[0]?.at ?? new Date();
  const nextSeq = new Map(heads.map((head) => [head.stream_id, head.last_seq - (counts.get(head.stream_id) ?? 0) + 1]));
  const events = appends.map(({ streamId, build }) => {
    const seq = nextSeq.get(streamId);
    if (seq === undefined) throw new Error(`event stream ${streamId}: no seq returned`);
    nextSeq.set(streamId, seq + 1);
    return { streamId, event: build(seq, at) };
  });
  await tx.query(
    `INSERT INTO stream_events (stream_id, seq, payload)
     SELECT stream_id, seq, payload FROM jsonb_to_recordset($1::jsonb) AS t(stream_id text, seq integer, payload jsonb)`,
    [
      JSON.stringify(
        events.map(({ streamId, event }) => ({
          stream_id: streamId,
          seq: event.seq,
          payload: superjson.serialize(event),
        })),
      ),
    ],
  );
  return events.map(({ event }) => event);
}

/** A range of a stream: `afterSeq < seq <= untilSeq` (no upper bound when absent), at most `limit` events. */
export interface SeqRange {
  afterSeq: number;
  untilSeq?: number;
  limit: number;
}

/** The events of `range`, in seq order. */
export async function readEvents<E extends SequencedEvent>(
  db: Queryable,
  streamId: string,
  range: SeqRange,
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

/** Each stream's newest seq (0 when it has none), in the order asked: one statement however many. */
export async function lastSeqs(db: Queryable, streamIds: readonly string[]): Promise<number[]> {
  if (streamIds.length === 0) return [];
  const rows = await db.query<{ stream_id: string; last_seq: number }>(
    'SELECT stream_id, last_seq FROM event_streams WHERE stream_id = ANY($1::text[])',
    [streamIds],
  );
  const heads = new Map(rows.map((row) => [row.stream_id, row.last_seq]));
  return streamIds.map((id) => heads.get(id) ?? 0);
}
