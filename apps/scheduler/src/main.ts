import 'reflect-metadata';
import {
  MIGRATE_INSTANCE,
  PLACE_VOLUME,
  PLACEMENT_QUEUE,
  REPORTS_QUEUE,
  type AgentReport,
  type MigrateInstanceJob,
  type PlaceInstancesJob,
  type PlaceVolumeJob,
} from '@berth/contracts';
import {
  auditHostUsage,
  ENROLL_HOST,
  EnrollmentWorkflow,
  type EnrollHostJob,
  MigrationWorkflow,
  PlacementWorkflow,
  policyOptionsOf,
  RecoveryWorkflow,
  ReportWorkflow,
  StrayWorkflow,
  TaskWatchdog,
  ReservationWorkflow,
  OutboxRelay,
  FirewallRefresher,
  VolumeHostWorkflow,
} from '@berth/control';
import { createDataSource, pingDatabase } from '@berth/data';
import { schedulerPolicy } from '@berth/domain';
import {
  createLogger,
  errorMessage,
  Failpoints,
  loadEnv,
  runMain,
  SecretBox,
  startOpsServer,
  type Logger,
} from '@berth/platform';
import { resolve } from 'node:path';
import {
  agentRedisUser,
  dropAgentRedisUser,
  placementCounter,
  QueueMetrics,
  QueueProducer,
  startWorker,
} from '@berth/queue';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { SchedulerEnv } from './config';
import { HostStateCache } from './placement/host-cache';
import { PlacementService } from './placement/placement-service';
import { EnrollmentService } from './enrollment/enrollment-service';
import { MigrationService } from './migration/migration-service';
import { ReportsService } from './reports/reports-service';

/** The scheduler process: placement and reports workers, an outbox relay for what they write, periodic audits. */
export async function startScheduler(env: SchedulerEnv) {
  const log = createLogger('scheduler', env.BERTH_LOG_LEVEL);
  const dataSource = createDataSource({
    url: env.BERTH_DATABASE_URL,
    poolSize: env.BERTH_PLACEMENT_CONCURRENCY + env.BERTH_REPORTS_CONCURRENCY + 2,
    applicationName: 'berth-scheduler',
  });
  await dataSource.initialize();
  const queueSettings = { redisUrl: env.BERTH_REDIS_URL, prefix: env.BERTH_QUEUE_PREFIX };
  const producer = new QueueProducer(queueSettings);
  const failpoints = Failpoints.armed(env.BERTH_FAILPOINTS, log);
  const { ops, queueMetrics, placements } = await observe(env, dataSource, producer, log);
  const workerOptions = (concurrency: number, queue: string) => ({
    concurrency,
    log,
    lockMs: env.BERTH_JOB_LOCK_SEC * 1000,
    observe: queueMetrics.observer(queue),
  });
  const { relay, firewalls } = await startRelays(env, dataSource, producer, failpoints, log);

  const limits = { maxInstancesPerHost: env.BERTH_MAX_INSTANCES_PER_HOST, downAfterSec: env.BERTH_HOST_DOWN_AFTER_SEC };
  const claimPool = claimsPool(env, log);
  const placementStore = new PlacementWorkflow(dataSource, limits, claimPool);
  const cache = new HostStateCache(placementStore, env.BERTH_HOST_CACHE_MS);
  const placement = new PlacementService(
    placementStore,
    cache,
    schedulerPolicy(policyOptionsOf(env)),
    log,
    failpoints,
    (outcome, reason) => placements.inc({ outcome, reason }),
  );
  const migrations = new MigrationWorkflow(dataSource, limits, env.BERTH_SNAPSHOT_REGISTRY);
  const migration = new MigrationService(migrations, placementStore, cache, schedulerPolicy(policyOptionsOf(env)), log);
  const enrollment = enrollmentService(env, dataSource, log);
  const volumes = new VolumeHostWorkflow(dataSource, env.BERTH_HOST_DOWN_AFTER_SEC);
  const { reports, watchdog } = reportsService(env, dataSource, { placement, migration, migrations, volumes }, log);
  const reservations = new ReservationWorkflow(dataSource, limits);
  const workers = [
    startWorker<PlacementJob>(
      queueSettings,
      PLACEMENT_QUEUE,
      placementJobs({ placement, migration, enrollment, volumes }, log),
      workerOptions(env.BERTH_PLACEMENT_CONCURRENCY, PLACEMENT_QUEUE),
    ),
    startWorker<AgentReport>(
      queueSettings,
      REPORTS_QUEUE,
      (job) => reports.apply(job.data),
      workerOptions(env.BERTH_REPORTS_CONCURRENCY, REPORTS_QUEUE),
    ),
  ];
  const timers = startLoops(env, { dataSource, reservations, watchdog, migrations }, log);
  log.info({ prefix: env.BERTH_QUEUE_PREFIX }, 'scheduler started');

  return {
    async stop() {
      timers.forEach(clearInterval);
      await Promise.all(workers.map((w) => w.close()));
      await firewalls.stop();
      await relay.stop();
      await producer.close();
      await claimPool.end();
      await ops.close();
      await dataSource.destroy();
    },
  };
}

type PlacementJob = PlaceInstancesJob | MigrateInstanceJob | EnrollHostJob | PlaceVolumeJob;

/** The placement queue's jobs, by name: instances to place, moves, host enrollments, and volumes to place. */
function placementJobs(
  services: {
    placement: PlacementService;
    migration: MigrationService;
    enrollment: EnrollmentService;
    volumes: VolumeHostWorkflow;
  },
  log: Logger,
) {
  return async (job: { name: string; data: PlacementJob }): Promise<void> => {
    switch (job.name) {
      case MIGRATE_INSTANCE:
        return services.migration.migrate(job.data as MigrateInstanceJob);
      case ENROLL_HOST:
        return services.enrollment.enroll(job.data as EnrollHostJob);
      case PLACE_VOLUME: {
        const { volumeId } = job.data as PlaceVolumeJob;
        const { host } = await services.volumes.place(job.data as PlaceVolumeJob);
        log.info({ volumeId, host }, host ? 'volume placed' : 'no host for a volume');
        return;
      }
      default:
        return services.placement.place(job.data as PlaceInstancesJob);
    }
  };
}

/** Applies agents' reports (results, power sync, recovery, strays); the watchdog rolls back what hosts never reported. */
function reportsService(
  env: SchedulerEnv,
  dataSource: DataSource,
  deps: {
    placement: PlacementService;
    migration: MigrationService;
    migrations: MigrationWorkflow;
    volumes: VolumeHostWorkflow;
  },
  log: Logger,
): { reports: ReportsService; watchdog: TaskWatchdog } {
  const workflow = new ReportWorkflow(dataSource, {
    cpu: env.BERTH_CPU_ALLOCATION_RATIO,
    ram: env.BERTH_RAM_ALLOCATION_RATIO,
    disk: env.BERTH_DISK_ALLOCATION_RATIO,
  });
  const reports = new ReportsService(
    workflow,
    deps.placement,
    deps.migration,
    deps.volumes,
    new RecoveryWorkflow(dataSource, deps.migrations),
    new StrayWorkflow(dataSource),
    env.BERTH_STRAY_GRACE_SEC,
    log,
  );
  return { reports, watchdog: new TaskWatchdog(dataSource, workflow, deps.migrations) };
}

/** The ops server (/metrics, /healthz, /readyz) with the queue and placement series. */
async function observe(env: SchedulerEnv, dataSource: DataSource, producer: QueueProducer, log: Logger) {
  const ops = await startOpsServer({
    host: env.BERTH_METRICS_HOST,
    port: env.BERTH_METRICS_PORT,
    prefix: 'berth_scheduler_',
    checks: { database: () => pingDatabase(dataSource.manager), redis: () => producer.ping() },
    log,
  });
  const queueMetrics = new QueueMetrics(ops.registry, 'berth_scheduler_', producer, () => [
    PLACEMENT_QUEUE,
    REPORTS_QUEUE,
  ]);
  return { ops, queueMetrics, placements: placementCounter(ops.registry, 'berth_scheduler_') };
}

/** The outbox relay, and the refresher that sends hosts the firewalls security-group changes altered. */
async function startRelays(
  env: SchedulerEnv,
  dataSource: DataSource,
  producer: QueueProducer,
  failpoints: Failpoints,
  log: Logger,
): Promise<{ relay: OutboxRelay; firewalls: FirewallRefresher }> {
  const relay = new OutboxRelay(
    dataSource,
    producer,
    log,
    { databaseUrl: env.BERTH_DATABASE_URL, pollMs: 1000, batchSize: 100 },
    failpoints,
  );
  await relay.start();
  const firewalls = new FirewallRefresher(dataSource, log, {
    databaseUrl: env.BERTH_DATABASE_URL,
    pollMs: 1000,
    spacingMs: 1000,
  });
  await firewalls.start();
  return { relay, firewalls };
}

/** Claims made on their own run as prepared statements on a pool of their own (the hot path). */
function claimsPool(env: SchedulerEnv, log: Logger): Pool {
  const pool = new Pool({
    connectionString: env.BERTH_DATABASE_URL,
    max: env.BERTH_PLACEMENT_CONCURRENCY,
    application_name: 'berth-scheduler-claims',
  });
  // An idle connection that PostgreSQL ends (a restart) is an 'error' on the pool: without a
  // listener it would take the process down. The pool opens a new connection at the next claim.
  pool.on('error', (error) => log.warn({ err: errorMessage(error) }, 'claim pool: connection lost'));
  return pool;
}

/** Enrolls hosts over SSH: it installs and starts an agent there, with a Redis user of its own. */
function enrollmentService(env: SchedulerEnv, dataSource: DataSource, log: Logger): EnrollmentService {
  return new EnrollmentService(
    new EnrollmentWorkflow(dataSource, env.BERTH_HOST_DOWN_AFTER_SEC),
    env.BERTH_SECRET_KEY ? SecretBox.fromBase64(env.BERTH_SECRET_KEY) : null,
    {
      // dist/apps/scheduler/src -> dist/apps/compute-agent/src/main.js
      agentPath: env.BERTH_AGENT_PROGRAM ?? resolve(__dirname, '../../compute-agent/src/main.js'),
      agentEnv: { BERTH_QUEUE_PREFIX: env.BERTH_QUEUE_PREFIX, BERTH_LOG_LEVEL: env.BERTH_LOG_LEVEL },
      redisUser: (host) =>
        agentRedisUser(
          env.BERTH_REDIS_URL,
          env.BERTH_AGENT_REDIS_URL ?? env.BERTH_REDIS_URL,
          env.BERTH_QUEUE_PREFIX,
          host,
        ),
      dropRedisUser: (username) => dropAgentRedisUser(env.BERTH_REDIS_URL, username),
      heartbeatTimeoutMs: 60_000,
    },
    log,
  );
}

/** The periodic loops: the usage audit, ended reservations, the task watchdog and the auto-confirm of moves. */
function startLoops(
  env: SchedulerEnv,
  on: {
    dataSource: DataSource;
    reservations: ReservationWorkflow;
    watchdog: TaskWatchdog;
    migrations: MigrationWorkflow;
  },
  log: Logger,
): NodeJS.Timeout[] {
  return [
    setInterval(() => void auditCapacity(on.dataSource, log), env.BERTH_USAGE_AUDIT_SEC * 1000),
    setInterval(() => void releaseEnded(on.reservations, log), env.BERTH_RESERVATION_SWEEP_SEC * 1000),
    ...(env.BERTH_TASK_TIMEOUT_SEC > 0
      ? [
          setInterval(
            () => void giveUpStuck(on.watchdog, env.BERTH_TASK_TIMEOUT_SEC, log),
            env.BERTH_WATCHDOG_SEC * 1000,
          ),
        ]
      : []),
    ...(env.BERTH_MIGRATION_AUTO_CONFIRM_SEC > 0
      ? [
          setInterval(
            () => void autoConfirm(on.migrations, env.BERTH_MIGRATION_AUTO_CONFIRM_SEC, log),
            Math.min(60, env.BERTH_MIGRATION_AUTO_CONFIRM_SEC) * 1000,
          ),
        ]
      : []),
  ];
}

/** Host counters are changed with their allocations in one transaction; drift is a bug or a hand edit. */
async function auditCapacity(dataSource: DataSource, log: Logger): Promise<void> {
  try {
    const { drift } = await auditHostUsage(dataSource, true);
    for (const d of drift)
      log.warn({ host: d.host, recorded: d.recorded, actual: d.actual }, 'capacity drift repaired');
  } catch (error) {
    log.warn({ err: errorMessage(error) }, 'capacity audit failed');
  }
}

async function releaseEnded(reservations: ReservationWorkflow, log: Logger): Promise<void> {
  try {
    for (const id of await reservations.releaseExpired())
      log.info({ reservationId: id }, 'reservation window ended: slots released');
  } catch (error) {
    log.warn({ err: errorMessage(error) }, 'reservation sweep failed');
  }
}

if (require.main === module) runMain('scheduler', () => startScheduler(loadEnv(SchedulerEnv)));

async function giveUpStuck(watchdog: TaskWatchdog, timeoutSec: number, log: Logger): Promise<void> {
  try {
    for (const task of await watchdog.sweep(timeoutSec))
      log.warn(task, 'watchdog: stuck task given up and rolled back');
  } catch (error) {
    log.warn({ err: errorMessage(error) }, 'watchdog sweep failed');
  }
}

async function autoConfirm(migrations: MigrationWorkflow, afterSec: number, log: Logger): Promise<void> {
  try {
    for (const instanceId of await migrations.autoConfirm(afterSec)) {
      log.info({ instanceId, afterSec }, 'migration confirmed automatically');
    }
  } catch (error) {
    log.warn({ err: errorMessage(error) }, 'automatic migration confirm failed');
  }
}
