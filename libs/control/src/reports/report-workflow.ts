import type { AgentReport, HostFacts } from '@berth/contracts';
import { addCachedImage, finishPullStep, recordStep, upsertHost, type AllocationRatios } from '@berth/data';
import type { DataSource } from 'typeorm';
import { applyPowerStates, type PowerSyncChange } from './power-sync';
import { applyResult } from './results';

type Report<T extends AgentReport['type']> = Extract<AgentReport, { type: T }>;

/**
 * Applies what agents report (the conductor's role: agents never open the database). Reports are delivered at
 * least once, so each is applied with a compare-and-swap and a repeat changes nothing. Migration reports go to
 * ../moves (MigrationWorkflow.apply), an agent's restart to recovery-workflow.ts.
 */
export class ReportWorkflow {
  constructor(
    private readonly dataSource: DataSource,
    /** Ratios given to a host when it first registers; operators change them per host later. */
    private readonly defaultRatios: AllocationRatios,
  ) {}

  async heartbeat(host: HostFacts): Promise<void> {
    await upsertHost(this.dataSource.manager, host, this.defaultRatios);
  }

  powerStates(report: Report<'host.power-states'>): Promise<PowerSyncChange[]> {
    return applyPowerStates(this.dataSource, report);
  }

  async step(report: Report<'operation.step'>): Promise<void> {
    await this.dataSource.transaction((m) => recordStep(m, report.operationId, report.step, report.at, report.detail));
  }

  result(report: Report<'instance.result'>): Promise<void> {
    return applyResult(this.dataSource, report);
  }

  /**
   * A host finished pulling an image for a pre-warm: its step ends, the host now caches the image, and the operation
   * finishes once every host has answered.
   */
  async imageResult(report: Report<'image.result'>): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (!report.error) await addCachedImage(m, report.host, report.imageRef);
      await finishPullStep(m, report.operationId, report.host, report.error, report.at);
    });
  }
}
