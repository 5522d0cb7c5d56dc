import { errorMessage, type Logger } from '@berth/platform';
import { Client } from 'pg';

export interface ListenerOptions {
  databaseUrl: string;
  channel: string;
  /** application_name of the connection, as pg_stat_activity shows it. */
  name: string;
  /** Called on each notification and again after a reconnect (a notification may have been missed). */
  onNotify: () => void;
}

/**
 * One LISTEN connection that comes back after PostgreSQL restarts. Notifications only wake a
 * reader up; readers also poll, because nothing is delivered while the connection is down.
 */
export class PgListener {
  private client: Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: ListenerOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: this.options.name });
    client.on('notification', () => this.options.onNotify());
    client.on('error', (error) => {
      // A lost connection errors more than once ("terminating connection", then "terminated unexpectedly"):
      // only its first error reconnects, so that one connection listens, never two.
      if (this.client !== client) return;
      this.log.warn({ err: errorMessage(error), channel: this.options.channel }, 'listener lost, reconnecting');
      this.client = null;
      void client.end().catch(() => undefined);
      this.reconnectIn(1000);
    });
    await client.connect();
    await client.query(`LISTEN ${this.options.channel}`);
    this.client = client;
  }

  private reconnectIn(ms: number): void {
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.reconnect();
    }, ms);
  }

  private async reconnect(): Promise<void> {
    if (this.stopped || this.client) return;
    try {
      await this.connect();
      this.options.onNotify();
    } catch (error) {
      this.log.warn({ err: errorMessage(error), channel: this.options.channel }, 'listener reconnect failed');
      this.reconnectIn(2000);
    }
  }
}
