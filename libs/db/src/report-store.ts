import type { AgentReport, HostFacts } from '@berth/contracts';
import { settle } from '@berth/domain';
import type { DataSource } from 'typeorm';
import { releaseAllocations } from './allocations';
import { markInstanceDeleted } from './lifecycle';
import { finishOperation, recordStep } from './operation-store';
import { one } from './sql';

export interface AllocationRatios {
  cpu: number;
  ram: number;
  disk: number;
}

type Report<T extends AgentReport['type']> = Extract<AgentReport, { type: T }>;

/**
 * Applies what agents report (the conductor's role: agents never open the database). Reports are
 * delivered at least once, so each is applied with a compare-and-swap and a repeat changes nothing.
 */
export class ReportStore {
  constructor(
    private readonly dataSource: DataSource,
    /** Ratios given to a host when it first registers; operators change them per host later. */
    private readonly defaultRatios: AllocationRatios,
  ) {}

  async heartbeat(host: HostFacts): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio,
                          agent_version, last_heartbeat_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
       ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, drivers = EXCLUDED.drivers,
         vcpus = EXCLUDED.vcpus, ram_mb = EXCLUDED.ram_mb, disk_gb = EXCLUDED.disk_gb,
         agent_version = EXCLUDED.agent_version, last_heartbeat_at = now()`,
      [
        host.name,
        host.address,
        host.drivers,
        host.vcpus,
        host.ramMb,
        host.diskGb,
        this.defaultRatios.cpu,
        this.defaultRatios.ram,
        this.defaultRatios.disk,
        host.agentVersion,
      ],
    );
  }

  async step(report: Report<'operation.step'>): Promise<void> {
    await this.dataSource.transaction((m) => recordStep(m, report.operationId, report.step, report.at, report.detail));
  }

  /**
   * A host finished a command. The instance moves only if it still holds the task this command ran
   * under (a delete may have overtaken a build); the operation is closed either way.
   */
  async result(report: Report<'instance.result'>): Promise<void> {
    const outcome = settle(report.command, report.fault === undefined, report.powerState);
    await this.dataSource.transaction(async (m) => {
      const instance = await one<{ taskState: string | null }>(
        m,
        'SELECT task_state AS "taskState" FROM instances WHERE id = $1 FOR UPDATE',
        [report.instanceId],
      );
      if (instance?.taskState === outcome.expectedTask) {
        if (outcome.status === 'DELETED') {
          await markInstanceDeleted(m, report.instanceId, report.operationId);
        } else {
          const failedBuild = report.command === 'instance.create' && report.fault !== undefined;
          if (failedBuild) await releaseAllocations(m, report.instanceId);
          await m.query(
            `UPDATE instances SET status = $2, task_state = NULL, power_state = $3, updated_at = now(),
                    fault = CASE WHEN $2 = 'ERROR' THEN $4::jsonb END,
                    host_id = CASE WHEN $5 THEN NULL ELSE host_id END,
                    launched_at = CASE WHEN $6 THEN now() ELSE launched_at END
              WHERE id = $1`,
            [
              report.instanceId,
              outcome.status,
              outcome.powerState,
              report.fault ? JSON.stringify(report.fault) : null,
              failedBuild,
              report.command === 'instance.create' && !failedBuild,
            ],
          );
        }
      }
      await finishOperation(m, report.operationId, report.fault ?? null);
    });
  }
}
