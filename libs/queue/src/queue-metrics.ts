import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueProducer } from './index';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * Queue figures for a process's /metrics: how long its jobs ran and how they ended, by queue and
 * job name, and how many jobs each of `queues` holds in each state (read from Redis at each scrape).
 */
export class QueueMetrics {
  private readonly durations: Histogram<'queue' | 'job' | 'outcome'>;

  constructor(registry: Registry, prefix: string, producer: QueueProducer, queues: () => readonly string[]) {
    this.durations = new Histogram({
      name: `${prefix}job_duration_seconds`,
      help: 'Jobs this process ran, by queue, job name and outcome (succeeded or failed), and how long they took',
      labelNames: ['queue', 'job', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    new Gauge({
      name: `${prefix}queue_jobs`,
      help: 'Jobs in each queue this process works, by state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const queue of queues()) {
          const counts = await producer.queue(queue).getJobCounts(...JOB_STATES);
          for (const state of JOB_STATES) this.set({ queue, state }, counts[state] ?? 0);
        }
      },
    });
  }

  /** The WorkerOptions.observe of a worker on `queue`. */
  observer(queue: string): (job: string, seconds: number, ok: boolean) => void {
    return (job, seconds, ok) => this.durations.observe({ queue, job, outcome: ok ? 'succeeded' : 'failed' }, seconds);
  }
}

/** Placement decisions by outcome and, for a refusal, the first filter that turned a host down. */
export function placementCounter(registry: Registry, prefix: string): Counter<'outcome' | 'reason'> {
  return new Counter({
    name: `${prefix}placements_total`,
    help: 'Instances the scheduler placed or could not place, by outcome and reason (the first rejecting filter)',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
  });
}
