import { PgListener, takeOutboxBatch } from '@berth/data';
import { Coalesced, errorMessage, Failpoints, type Logger } from '@berth/platform';
import type { DataSource } from 'typeorm';

/**
 * The relay of the transactional outbox (@berth/data's enqueue): moves the jobs written with a state change to
 * the queue after commit, woken by the outbox's notification and by a timer. A crash between commit and enqueue
 * loses nothing; a crash after enqueue re-sends the row, which the stable job id makes harmless.
 */
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
      const batch = await takeOutboxBatch(manager, this.options.batchSize);
      if (batch.length > 0) await this.failpoints.check('outbox.send');
      for (const row of batch) await this.sink.add(row.queue, row.jobName, row.payload, row.jobId);
      if (batch.length > 0) await this.failpoints.check('outbox.sent');
      return batch.length;
    });
  }
}
