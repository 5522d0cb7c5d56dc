/**
 * One scheduler worker of bench/scheduler: the real PlacementService with its own connection pools
 * and host cache, placing the instances its parent sends with `concurrency` decisions in flight, as
 * the scheduler's BullMQ worker runs them (BERTH_PLACEMENT_CONCURRENCY).
 */
import 'reflect-metadata';
import type { PlaceInstancesJob } from '@berth/contracts';
import { PlacementWorkflow } from '@berth/control';
import { createDataSource } from '@berth/data';
import { DEFAULT_POLICY_OPTIONS, schedulerPolicy } from '@berth/domain';
import { createLogger } from '@berth/platform';
import { Pool } from 'pg';
import { HostStateCache } from '../apps/scheduler/src/placement/host-cache';
import { PlacementService } from '../apps/scheduler/src/placement/placement-service';

export interface WorkerResult {
  latencies: number[];
  /** Epoch ms when this worker started and finished placing. */
  started: number;
  ended: number;
  /** CPU time this process spent while placing (user + system). */
  cpuMs: number;
}

interface Work {
  databaseUrl: string;
  jobs: PlaceInstancesJob[];
  concurrency: number;
}

process.once('message', (work: Work) => {
  void run(work).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});

async function run(work: Work): Promise<WorkerResult> {
  const dataSource = await createDataSource({
    url: work.databaseUrl,
    poolSize: 2,
    applicationName: 'bench-scheduler',
  }).initialize();
  const claims = new Pool({
    connectionString: work.databaseUrl,
    max: work.concurrency,
    application_name: 'bench-scheduler-claims',
  });
  const store = new PlacementWorkflow(dataSource, { maxInstancesPerHost: 1000, downAfterSec: 3600 }, claims);
  const cache = new HostStateCache(store, 1000);
  const placement = new PlacementService(
    store,
    cache,
    schedulerPolicy({
      ...DEFAULT_POLICY_OPTIONS,
      subsetSize: Number(process.env['BERTH_HOST_SUBSET_SIZE'] ?? DEFAULT_POLICY_OPTIONS.subsetSize),
    }),
    createLogger('bench', 'silent'),
  );
  await cache.hosts(); // the first full read is start-up, not a decision
  // Start together: process start-up differs by hundreds of milliseconds, and the run is timed
  // from the first worker's start to the last one's end.
  await new Promise<void>((go) => {
    process.once('message', () => go());
    process.send?.('ready');
  });
  const latencies: number[] = [];
  const queue = [...work.jobs];
  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: work.concurrency }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const t0 = performance.now();
        await placement.place(job);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const ended = Date.now();
  const cpu = process.cpuUsage(cpuBefore);
  await claims.end();
  await dataSource.destroy();
  return { latencies, started, ended, cpuMs: (cpu.user + cpu.system) / 1000 };
}
