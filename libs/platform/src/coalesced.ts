/**
 * Runs `work` when kicked, never twice at once: a kick while it runs makes it run once more after,
 * however many kicks came meanwhile. For readers woken by notifications that may come in bursts
 * (the outbox relay, the event hub). `work` handles its own errors.
 */
export class Coalesced {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly work: () => Promise<void>) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  /** No more runs; resolves once the one in progress, if any, has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Kicks may run work again (after stop). */
  resume(): void {
    this.stopped = false;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.work();
    } while (this.again && !this.stopped);
  }
}
