import { errorMessage, requestIdOf, withLogContext, withRequestId, type Logger } from '@berth/platform';
import { Queue, QueueEvents, Worker, type Job, type JobsOptions } from 'bullmq';
import IORedis from 'ioredis';

export type { Job };

/**
 * BullMQ delivers at least once: a job whose worker dies is redelivered, so every handler is
 * idempotent. Failed handlers are retried with backoff; finished jobs are kept an hour so that a
 * re-sent outbox row with the same job id is recognised and dropped.
 */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export interface QueueSettings {
  redisUrl: string;
  /** Key prefix, so that several Berth stacks (tests) can share one Redis. */
  prefix: string;
}

/** A connection BullMQ can block on: workers need `maxRetriesPerRequest: null`. */
export function connectRedis(url: string): IORedis {
  return new IORedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/** Adds jobs to any queue; owns one Redis connection shared by all its queues. */
export class QueueProducer {
  private readonly queues = new Map<string, Queue>();
  private readonly connection: IORedis;
  private readonly prefix: string;

  constructor(settings: QueueSettings) {
    this.connection = connectRedis(settings.redisUrl);
    this.prefix = settings.prefix;
  }

  async add(queue: string, name: string, payload: object, jobId?: string): Promise<void> {
    const options = jobId === undefined ? JOB_OPTIONS : { ...JOB_OPTIONS, jobId };
    await this.queue(queue).add(name, withRequestId(payload), options);
  }

  /**
   * A question for a worker that answers at once (a console tail), not a change: one attempt, the
   * worker's return value is the answer, and a worker that does not answer within `timeoutMs` gets
   * the request withdrawn and the caller an error. Nothing about it is kept.
   *
   * The answer is awaited from the queue's event stream read from the last event before the job was
   * added, not from "now": a listener that starts reading after a quick worker has answered would
   * otherwise miss the answer. The finished job is kept until it is read (a job removed on
   * completion looks missing to BullMQ's own check) and removed after.
   */
  async request<R>(queueName: string, name: string, payload: object, timeoutMs: number): Promise<R> {
    const queue = this.queue(queueName);
    const [last] = await this.connection.xrevrange(queue.keys['events'] ?? '', '+', '-', 'COUNT', 1);
    const connection = this.connection.duplicate();
    const events = new QueueEvents(queueName, { connection, prefix: this.prefix, lastEventId: last?.[0] ?? '0-0' });
    const job = await queue.add(name, withRequestId(payload), {
      attempts: 1,
      // Removed once read; kept a minute, not for ever, should it finish after the asker gave up.
      removeOnComplete: { age: 60 },
      removeOnFail: { age: 60 },
    });
    try {
      return (await job.waitUntilFinished(events, timeoutMs)) as R;
    } finally {
      await job.remove().catch(() => undefined);
      await events.close();
      connection.disconnect();
    }
  }

  /** Whether Redis answers (readiness); a command waits while disconnected, so the caller bounds it. */
  async ping(): Promise<void> {
    await this.connection.ping();
  }

  /** Jobs of `queue` that a worker has taken and not finished (or whose worker died with them). */
  async activeJobs<T>(name: string): Promise<Array<Job<T>>> {
    return (await this.queue(name).getActive()) as Array<Job<T>>;
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      // Each request in flight listens for the queue's closing; the API may have many at once.
      queue.setMaxListeners(1000);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    this.connection.disconnect();
  }
}

export interface WorkerOptions {
  concurrency: number;
  log: Logger;
  /**
   * Whether a job whose worker died is run again (BullMQ's stalled-job check). A compute host's
   * commands are not: its restart recovers them from the records instead, so that a build it has
   * failed and cleaned up is never built a second time.
   */
  redeliverStalled?: boolean;
  /**
   * How long a job's lock lasts without renewal: a job whose worker died is taken again after about
   * this long (BullMQ checks for stalled jobs as often). Default BullMQ's 30 s.
   */
  lockMs?: number;
  /** Told of each job's end: its name, how long it ran, whether it succeeded (for metrics). */
  observe?: (name: string, seconds: number, ok: boolean) => void;
}

/** Runs `handler` for each job of `queue`; errors are logged and left to BullMQ's retries. */
export function startWorker<T>(
  settings: QueueSettings,
  queue: string,
  handler: (job: Job<T>) => Promise<unknown>,
  options: WorkerOptions,
): RunningWorker {
  const connection = connectRedis(settings.redisUrl);
  const observe = options.observe;
  // Each job runs under the request id it carries, so every log line about it, here and in what it
  // enqueues, names the request that caused it.
  const traced = (job: Job<T>) => {
    const requestId = requestIdOf(job.data);
    return requestId === undefined ? handler(job) : withLogContext({ requestId }, () => handler(job));
  };
  const run = observe
    ? async (job: Job<T>) => {
        const started = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
        try {
          const result = await traced(job);
          observe(job.name, seconds(), true);
          return result;
        } catch (error) {
          observe(job.name, seconds(), false);
          throw error;
        }
      }
    : traced;
  const worker = new Worker<T>(queue, run, {
    connection,
    prefix: settings.prefix,
    concurrency: options.concurrency,
    autorun: true,
    ...(options.redeliverStalled === false ? { maxStalledCount: 0 } : {}),
    ...(options.lockMs === undefined ? {} : { lockDuration: options.lockMs, stalledInterval: options.lockMs }),
  });
  worker.on('failed', (job, error) =>
    options.log.warn(
      { queue, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: errorMessage(error) },
      'job failed',
    ),
  );
  worker.on('error', (error) => options.log.error({ queue, err: errorMessage(error) }, 'worker error'));
  return {
    close: async () => {
      await worker.close();
      connection.disconnect();
    },
  };
}

export interface RunningWorker {
  /** Waits for jobs in progress, then stops. */
  close(): Promise<void>;
}
export * from './agent-credentials';
export * from './queue-metrics';
export * from './pubsub';
