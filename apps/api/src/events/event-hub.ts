import { eventMatches, PgListener, type BerthEvent, type EventFilter, type EventStore } from '@berth/data';
import type { TokenWatch } from '../auth/token-watch';
import { RateLimited } from '@berth/domain';
import { Coalesced, errorMessage, type Logger } from '@berth/platform';

/** Where a subscriber's events go: an SSE response. */
export interface EventSink {
  /** Writes one event; false when the client has fallen too far behind and must reconnect. */
  send(event: BerthEvent): boolean;
  close(): void;
}

export interface HubOptions {
  databaseUrl: string;
  /** Safety net for a missed notification (the LISTEN connection was down). */
  pollMs: number;
  retentionSec: number;
  pruneEveryMs: number;
  /** Streams one token may hold open at once in this process; one more is refused (RateLimited). */
  streamsPerToken: number;
}

const PAGE = 500;

class Subscriber {
  /** Events that arrived live while the history was still being replayed. */
  backlog: BerthEvent[] | null = [];

  constructor(
    readonly filter: EventFilter,
    public cursor: number,
    readonly sink: EventSink,
    /** The token the stream was opened with. */
    readonly tokenId: string,
  ) {}

  /** Stops watching its token. */
  unwatch: () => void = () => undefined;

  deliver(event: BerthEvent): boolean {
    if (event.seq <= this.cursor || !eventMatches(event, this.filter)) return true;
    this.cursor = event.seq;
    return this.sink.send(event);
  }
}

/** Thrown when a resume token is older than the history kept. */
export class HistoryGone extends Error {
  constructor(readonly horizon: number) {
    super(`events up to ${horizon} were pruned`);
  }
}

/**
 * Fans the event log out to SSE clients. One reader per API process follows the log in commit
 * order (woken by NOTIFY, polling as a backstop) and hands each event to the subscribers whose
 * scope it is in; a subscriber that resumes first replays its gap from the database, with live
 * events held back until the replay has caught up, so the stream has no gap and no repeat.
 */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly listener: PgListener;
  private cursor = 0;
  private readonly reading = new Coalesced(() => this.readNew());
  private timers: NodeJS.Timeout[] = [];
  private stopped = true;

  constructor(
    private readonly store: EventStore,
    private readonly log: Logger,
    private readonly options: HubOptions,
    /** A revoked or expired token's streams end. */
    private readonly tokens: TokenWatch,
  ) {
    this.listener = new PgListener(
      {
        databaseUrl: options.databaseUrl,
        channel: 'berth_events',
        name: 'berth-api-events',
        onNotify: () => this.kick(),
      },
      log,
    );
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.reading.resume();
    this.cursor = await this.store.head();
    await this.listener.start();
    this.timers = [
      setInterval(() => this.kick(), this.options.pollMs),
      setInterval(() => void this.prune(), this.options.pruneEveryMs),
    ];
    await this.prune();
  }

  /** Refuses one more stream for a token that holds as many as it may. */
  private admit(tokenId: string): void {
    let held = 0;
    for (const subscriber of this.subscribers) if (subscriber.tokenId === tokenId) held += 1;
    if (held >= this.options.streamsPerToken) {
      throw new RateLimited(`this token holds ${held} open event streams, the most it may; close one first`, 5);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.listener.stop();
    await this.reading.stop();
    for (const subscriber of this.subscribers) {
      subscriber.unwatch();
      subscriber.sink.close();
    }
    this.subscribers.clear();
  }

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Streams the events in `filter` to `sink` from after `lastEventId` (null: from now on).
   * Returns the unsubscribe function. Throws HistoryGone if that point was pruned.
   */
  async subscribe(
    filter: EventFilter,
    lastEventId: number | null,
    sink: EventSink,
    tokenId: string,
  ): Promise<() => void> {
    if (lastEventId !== null) {
      const horizon = await this.store.horizon();
      if (lastEventId < horizon) throw new HistoryGone(horizon);
    }
    // Registered before anything is awaited, so that whatever the reader dispatches from here on is
    // held in the backlog; `upTo` is where the reader stood at that moment.
    this.admit(tokenId);
    const upTo = this.cursor;
    const subscriber = new Subscriber(filter, lastEventId ?? upTo, sink, tokenId);
    this.subscribers.add(subscriber);
    subscriber.unwatch = this.tokens.watch(
      tokenId,
      () => void this.drop(subscriber, 'its token was revoked or expired'),
    );
    const unsubscribe = () => {
      subscriber.unwatch();
      this.subscribers.delete(subscriber);
    };
    try {
      // "From now on" is the newest commit, which the reader may not have read yet.
      if (lastEventId === null) subscriber.cursor = await this.store.head();
      while (subscriber.cursor < upTo) {
        const page = await this.store.after(subscriber.cursor, upTo, filter, PAGE);
        for (const event of page) {
          if (!subscriber.deliver(event)) return this.drop(subscriber);
        }
        if (page.length < PAGE) break;
      }
      subscriber.cursor = Math.max(subscriber.cursor, upTo);
      const backlog = subscriber.backlog ?? [];
      subscriber.backlog = null;
      for (const event of backlog) {
        if (!subscriber.deliver(event)) return this.drop(subscriber);
      }
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  /** Reads what was committed since the last read; coalesces with a read in progress. */
  kick(): void {
    if (!this.stopped) this.reading.kick();
  }

  private async readNew(): Promise<void> {
    try {
      for (;;) {
        const page = await this.store.after(this.cursor, null, null, PAGE);
        for (const event of page) this.dispatch(event);
        if (page.length < PAGE) break;
      }
    } catch (error) {
      this.log.warn({ err: errorMessage(error) }, 'events: reading the log failed, will retry');
    }
  }

  private dispatch(event: BerthEvent): void {
    this.cursor = event.seq;
    for (const subscriber of this.subscribers) {
      if (subscriber.backlog) {
        if (eventMatches(event, subscriber.filter)) subscriber.backlog.push(event);
      } else if (!subscriber.deliver(event)) {
        this.drop(subscriber);
      }
    }
  }

  private drop(subscriber: Subscriber, why = 'it fell too far behind'): () => void {
    subscriber.unwatch();
    this.subscribers.delete(subscriber);
    this.log.warn({ cursor: subscriber.cursor, why }, 'events: a client was disconnected');
    subscriber.sink.close();
    return () => undefined;
  }

  private async prune(): Promise<void> {
    try {
      const removed = await this.store.prune(new Date(Date.now() - this.options.retentionSec * 1000));
      if (removed > 0) this.log.info({ removed }, 'events: pruned history past its retention');
    } catch (error) {
      this.log.warn({ err: errorMessage(error) }, 'events: pruning failed, will retry');
    }
  }
}
