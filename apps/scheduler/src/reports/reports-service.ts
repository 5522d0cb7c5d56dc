import type { AgentReport } from '@berth/contracts';
import type { ReportStore } from '@berth/db';
import type { PlacementService } from '../placement/placement-service';

/**
 * Applies agents' reports to the database (the conductor's role). A build that failed on its host
 * is first offered to the placement service, which rebuilds it on an alternate if one takes it.
 */
export class ReportsService {
  constructor(
    private readonly store: ReportStore,
    private readonly placement: PlacementService,
  ) {}

  async apply(report: AgentReport): Promise<void> {
    switch (report.type) {
      case 'host.heartbeat':
        return this.store.heartbeat(report.host);
      case 'operation.step':
        return this.store.step(report);
      case 'image.result':
        return this.store.imageResult(report);
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
