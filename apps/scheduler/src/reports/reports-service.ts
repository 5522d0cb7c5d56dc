import type { AgentReport } from '@berth/contracts';
import type { RecoveryWorkflow, ReportWorkflow, StrayWorkflow, VolumeHostWorkflow } from '@berth/control';
import { KeyedLock, type Logger } from '@berth/platform';
import type { MigrationService } from '../migration/migration-service';
import type { PlacementService } from '../placement/placement-service';

/**
 * Applies agents' reports to the database (the conductor's role). Reports of one operation are
 * applied one after another, in the order this scheduler picked them up (the order they were sent).
 * A build that failed on its host is first offered to the placement service, which rebuilds it on
 * an alternate if one takes it.
 */
export class ReportsService {
  private readonly perOperation = new KeyedLock();

  constructor(
    private readonly store: ReportWorkflow,
    private readonly placement: PlacementService,
    private readonly migration: MigrationService,
    private readonly volumes: VolumeHostWorkflow,
    private readonly recovery: RecoveryWorkflow,
    private readonly strays: StrayWorkflow,
    /** How long a stray stays before its host is told to remove it (0: reported, never removed). */
    private readonly strayGraceSec: number,
    private readonly log: Logger,
  ) {}

  apply(report: AgentReport): Promise<void> {
    return report.type === 'host.heartbeat' || report.type === 'host.power-states' || report.type === 'host.started'
      ? this.applyNow(report)
      : this.perOperation.run(report.operationId, () => this.applyNow(report));
  }

  private async applyNow(report: AgentReport): Promise<void> {
    switch (report.type) {
      case 'host.heartbeat':
        return this.store.heartbeat(report.host);
      case 'host.power-states':
        await this.migration.cleanupEvacuated(report);
        for (const change of await this.store.powerStates(report)) {
          this.log.warn(
            { host: report.host, instanceId: change.instanceId, from: change.from, to: change.to },
            'power sync: the instance changed outside Berth',
          );
          if (change.restartOperationId) {
            this.log.info(
              { host: report.host, instanceId: change.instanceId, operationId: change.restartOperationId },
              'power sync: started again by its restart policy',
            );
          }
        }
        {
          const { found, purged } = await this.strays.judge(report, this.strayGraceSec);
          if (found.length > 0) {
            this.log.warn(
              { host: report.host, instanceIds: found, graceSec: this.strayGraceSec },
              'strays on a host: no record owns them; removed after the grace period',
            );
          }
          if (purged.length > 0) this.log.warn({ host: report.host, instanceIds: purged }, 'strays sent for removal');
        }
        return;
      case 'host.started': {
        const recovered = await this.recovery.hostStarted(report);
        if (recovered.length > 0)
          this.log.warn({ host: report.host, recovered }, 'agent restarted: recovering the tasks it left unfinished');
        const volumes = await this.recovery.volumesOnStart(report);
        if (volumes && volumes.missing.length + volumes.strays.length > 0) {
          this.log.warn({ host: report.host, ...volumes }, 'volumes on the host differ from the records');
        }
        return;
      }
      case 'operation.step':
        return this.store.step(report);
      case 'image.result':
        return this.store.imageResult(report);
      case 'migration.result':
        return this.migration.apply(report);
      case 'volume.result':
        return this.volumes.result(report);
      case 'instance.result':
        if (
          report.command === 'instance.create' &&
          report.fault &&
          (await this.placement.rescheduleFailedBuild(report.instanceId, report.operationId, report.fault))
        ) {
          return;
        }
        return this.store.result(report);
    }
  }
}
