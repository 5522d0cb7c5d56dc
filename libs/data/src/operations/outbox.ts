import { withRequestId } from '@berth/platform';
import type { EntityManager } from 'typeorm';
import { rows } from '../sql';

/**
 * Transactional outbox: a job is written in the same transaction as the state change it belongs
 * to, and a relay moves it to the queue after commit. A crash between commit and enqueue loses
 * nothing; a crash after enqueue re-sends the row, which the stable job id makes harmless.
 */
export interface OutboxMessage {
  queue: string;
  name: string;
  jobId: string;
  payload: object;
}

export async function enqueue(manager: EntityManager, ...messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  // One statement for them all, in their order (ids follow the rows' order in the VALUES).
  await manager.query(
    `INSERT INTO outbox (queue, job_name, job_id, payload)
     SELECT q, n, j, p::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(q, n, j, p, o)
      ORDER BY o`,
    [
      messages.map((m) => m.queue),
      messages.map((m) => m.name),
      messages.map((m) => m.jobId),
      messages.map((m) => JSON.stringify(withRequestId(m.payload))),
    ],
  );
}

/** A message taken from the outbox, with its row's id (the order it was written in). */
export interface OutboxRow {
  id: string;
  queue: string;
  jobName: string;
  jobId: string;
  payload: object;
}

/**
 * Takes up to `limit` messages out of the outbox in the caller's transaction (skipping rows another relay holds),
 * in the order they were written. They are gone once the transaction commits.
 */
export async function takeOutboxBatch(manager: EntityManager, limit: number): Promise<OutboxRow[]> {
  const batch = await rows<OutboxRow>(
    manager,
    `DELETE FROM outbox WHERE id IN (
       SELECT id FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
     ) RETURNING id, queue, job_name AS "jobName", job_id AS "jobId", payload`,
    [limit],
  );
  // Rows come back in no particular order.
  return batch.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}
