import { Coalesced, errorMessage, Failpoints, withRequestId, type Logger } from '@berth/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { PgListener } from './pg-listener';
import { rows } from './sql';

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

/** Where the relay delivers: the queue producer. */
export interface JobSink {
  add(queue: string, name: string, payload: object, jobId: string): Promise<void>;
}

export interface RelayOptions {
  databaseUrl: string;
  /** Safety net if a notification is missed (e.g. while reconnecting). */
  pollMs: number;
  batchSize: number;
}

export class OutboxRelay {
  private readonly listener: PgListener;
  private timer: NodeJS.Timeout | null = null;
  private readonly draining = new Coalesced(() => this.drainOnce());

  constructor(
    private readonly dataSource: DataSource,
    private readonly sink: JobSink,
    private readonly log: Logger,
    private readonly options: RelayOptions,
    /** outbox.send: rows taken, nothing enqueued yet; outbox.sent: enqueued, rows not yet gone. */
    private readonly failpoints = new Failpoints(),
  ) {
    this.listener = new PgListener(
      {
        databaseUrl: options.databaseUrl,
        channel: 'berth_outbox',
        name: 'berth-outbox-relay',
        onNotify: () => this.kick(),
      },
      log,
    );
  }

  async start(): Promise<void> {
    this.draining.resume();
    await this.listener.start();
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    this.kick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.draining.stop();
    await this.listener.stop();
  }

  /** Drains the outbox now; coalesces with a drain already running. */
  kick(): void {
    this.draining.kick();
  }

  /** Moves everything currently in the outbox to the queue. Exposed for tests. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const moved = await this.drainBatch();
      total += moved;
      if (moved < this.options.batchSize) return total;
    }
  }

  private async drainOnce(): Promise<void> {
    try {
      await this.drain();
    } catch (error) {
      this.log.warn({ err: errorMessage(error) }, 'outbox relay: drain failed, will retry');
    }
  }

  private drainBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const batch = await rows<{ id: string; queue: string; jobName: string; jobId: string; payload: object }>(
        manager,
        `DELETE FROM outbox WHERE id IN (
           SELECT id FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
         ) RETURNING id, queue, job_name AS "jobName", job_id AS "jobId", payload`,
        [this.options.batchSize],
      );
      // Rows come back in no particular order; deliver them in the order they were written.
      batch.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      if (batch.length > 0) await this.failpoints.check('outbox.send');
      for (const row of batch) await this.sink.add(row.queue, row.jobName, row.payload, row.jobId);
      if (batch.length > 0) await this.failpoints.check('outbox.sent');
      return batch.length;
    });
  }
}
