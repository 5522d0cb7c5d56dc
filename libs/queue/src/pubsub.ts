import { errorMessage, type Logger } from '@berth/platform';
import IORedis from 'ioredis';

/**
 * Redis publish/subscribe of binary messages on named channels: the interactive console's byte stream between the
 * API and a host (libs/contracts terminal.ts). Two connections, as Redis requires: one subscribed, one to publish.
 * At most once and in order per publisher; both sides say they are alive with keepalive frames of their own.
 */
export class PubSub {
  private readonly publisher: IORedis;
  private readonly subscriber: IORedis;
  private readonly handlers = new Map<string, (message: Buffer) => void>();

  constructor(redisUrl: string, log: Logger) {
    // Commands wait while Redis reconnects; the subscriber subscribes again to its channels when it is back.
    this.publisher = new IORedis(redisUrl, { maxRetriesPerRequest: null });
    this.subscriber = new IORedis(redisUrl, { maxRetriesPerRequest: null });
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const handler = this.handlers.get(channel.toString());
      try {
        handler?.(message);
      } catch (error) {
        log.warn({ channel: channel.toString(), err: errorMessage(error) }, 'pubsub: a message handler failed');
      }
    });
  }

  async publish(channel: string, message: Buffer): Promise<void> {
    await this.publisher.publish(channel, message);
  }

  /** Delivers each message on `channel` to `handler` from the moment this resolves; returns the unsubscribe. */
  async subscribe(channel: string, handler: (message: Buffer) => void): Promise<() => Promise<void>> {
    if (this.handlers.has(channel)) throw new Error(`already subscribed to ${channel}`);
    this.handlers.set(channel, handler);
    try {
      await this.subscriber.subscribe(channel);
    } catch (error) {
      this.handlers.delete(channel);
      throw error;
    }
    return async () => {
      if (!this.handlers.delete(channel)) return;
      await this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** Whether both connections answer (readiness). */
  async ping(): Promise<void> {
    await this.publisher.ping();
  }

  close(): void {
    this.handlers.clear();
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
