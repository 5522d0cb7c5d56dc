import { PgListener, projectsToRefresh } from '@berth/data';
import { Coalesced, errorMessage, type Logger } from '@berth/platform';
import type { DataSource } from 'typeorm';
import { refreshFirewalls } from '../security-groups/firewalls';

export interface RefresherOptions {
  databaseUrl: string;
  /** How often marks are looked for without a notification (instances being placed keep theirs). */
  pollMs: number;
  /** The least time between two refreshes: a burst of changes is sent as a few, not as one per change. */
  spacingMs: number;
}

/**
 * Sends the firewalls that security-group changes marked (markFirewalls): woken by the marks' notification,
 * and by a timer for instances that were being placed. Refreshes coalesce and are spaced, so that a burst of
 * creates into one group sends each member's firewall a few times, not once per create. Runs in every
 * scheduler; the project lock and the marks' rows keep two from sending the same firewall twice.
 */
export class FirewallRefresher {
  private readonly listener: PgListener;
  private timer: NodeJS.Timeout | null = null;
  private readonly refreshing = new Coalesced(() => this.refreshOnce());

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: Logger,
    private readonly options: RefresherOptions,
  ) {
    this.listener = new PgListener(
      {
        databaseUrl: options.databaseUrl,
        channel: 'berth_firewalls',
        name: 'berth-firewalls',
        onNotify: () => this.kick(),
      },
      log,
    );
  }

  async start(): Promise<void> {
    this.refreshing.resume();
    await this.listener.start();
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    this.kick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing.stop();
    await this.listener.stop();
  }

  kick(): void {
    this.refreshing.kick();
  }

  /** Sends every marked firewall now; returns how many. Exposed for tests. */
  async refresh(): Promise<number> {
    let sent = 0;
    for (const projectId of await projectsToRefresh(this.dataSource.manager)) {
      sent += await refreshFirewalls(this.dataSource, projectId);
    }
    return sent;
  }

  private async refreshOnce(): Promise<void> {
    try {
      const sent = await this.refresh();
      if (sent > 0) this.log.info({ sent }, 'firewalls sent to hosts');
    } catch (error) {
      this.log.warn({ err: errorMessage(error) }, 'firewall refresh failed, will retry');
    }
    await new Promise((r) => setTimeout(r, this.options.spacingMs));
  }
}
