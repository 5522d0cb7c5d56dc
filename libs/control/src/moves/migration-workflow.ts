import type { AgentReport, InterruptedCommand, MigrateInstanceJob } from '@berth/contracts';
import type { MigrationAction, MigrationMove, Resources } from '@berth/domain';
import { migration, migrationsOf, type Actor, type HostLimits, type MigrationRow } from '@berth/data';
import type { DataSource } from 'typeorm';
import { conductReport, type MigrationReport } from './conduct';
import { cleanupEvacuated, evacuateHost, moveAllOff } from './host-moves';
import { claimMigrationTarget, noHostForMigration } from './placement';
import { recoverMigrationsOn, type RecoveredMigration } from './recover';
import { autoConfirmMigrations, requestMigration, type MigrationRequest } from './request';

/**
 * Cold moves of instances between hosts (migrate, confirm, revert, drain, evacuate, cold resize): the API starts
 * and ends them, the scheduler claims targets and, as conductor, turns each host's report into the next command.
 * Every change is one transaction with the commands it sends (the outbox), under the migration's row lock. Each
 * method is one file of this folder: request.ts, host-moves.ts, placement.ts, conduct.ts, recover.ts.
 */
export class MigrationWorkflow {
  constructor(
    private readonly dataSource: DataSource,
    private readonly limits: HostLimits,
    /** Where snapshots go (host:port of the registry every compute host can reach). */
    private readonly registry: string,
  ) {}

  /** API: starts a migration (admin), or confirms or reverts one awaiting verification (a resize: its owner too). */
  request(instanceId: string, action: MigrationAction, actor: Actor, options: MigrationRequest = {}): Promise<string> {
    return requestMigration(this.dataSource, instanceId, action, actor, options);
  }

  /** Scheduler: confirms migrations that awaited verification for `afterSec` (Nova's resize_confirm_window). */
  autoConfirm(afterSec: number): Promise<string[]> {
    return autoConfirmMigrations(this.dataSource, afterSec);
  }

  /** API: drains a host: it leaves scheduling, and each instance that can move is migrated off and confirmed. */
  drain(hostId: string, actor: Actor): Promise<string> {
    return moveAllOff(this.dataSource, hostId, actor, 'migration');
  }

  /** API: rebuilds elsewhere every instance of a host that is down. */
  evacuate(hostId: string, actor: Actor, downAfterSec: number): Promise<string> {
    return evacuateHost(this.dataSource, hostId, actor, downAfterSec);
  }

  /** Scheduler, on a host's power sync: the stale copies an evacuation left there go. */
  cleanupEvacuated(report: Extract<AgentReport, { type: 'host.power-states' }>): Promise<number> {
    return cleanupEvacuated(this.dataSource, report);
  }

  /** The instance's migrations, newest first. */
  list(instanceId: string): Promise<MigrationRow[]> {
    return migrationsOf(this.dataSource.manager, instanceId);
  }

  get(id: string): Promise<MigrationRow | null> {
    return migration(this.dataSource.manager, id);
  }

  /** Scheduler: claims the target and sends the first step. */
  claimTarget(
    job: MigrateInstanceJob,
    host: { id: string; name: string },
    resources: Resources,
  ): Promise<'claimed' | 'host-full' | 'gone'> {
    return claimMigrationTarget(this.dataSource, this.limits, this.registry, job, host, resources);
  }

  /** Scheduler: no host takes the instance; it stays where it was, and the migration says why. */
  noValidHost(job: MigrateInstanceJob, message: string, reason: string): Promise<void> {
    return noHostForMigration(this.dataSource, job, message, reason);
  }

  /** Scheduler (conductor): a host reported one step; the migration moves on, back, or ends. */
  apply(report: MigrationReport): Promise<MigrationMove['kind']> {
    return this.dataSource.transaction((m) => conductReport(m, report));
  }

  /** A host's agent restarted: the steps it was running are failed or sent again. */
  recoverHost(
    hostName: string,
    incarnation: string,
    cut: InterruptedCommand[],
    at: string,
  ): Promise<RecoveredMigration[]> {
    return recoverMigrationsOn(this.dataSource, hostName, incarnation, cut, at);
  }
}
