import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  type ComputeCommand,
  type Fault,
  type InstanceKind,
} from '@berth/contracts';
import type { HostCandidate, Resources } from '@berth/domain';
import type { DataSource } from 'typeorm';
import { claimOnHost } from './allocations';
import { INSTANCE_RECORD_SQL, specOf, type InstanceRecord } from './instance-record';
import { finishOperation, recordStep } from './operation-store';
import { enqueue } from './outbox';
import { one, rows } from './sql';

export type ClaimResult = 'claimed' | 'host-full' | 'gone';

class HostFull extends Error {}

/** The scheduler's view of the database: what waits for a host, the hosts, and the claim. */
export class PlacementStore {
  constructor(
    private readonly dataSource: DataSource,
    /** A host without a heartbeat for this long is down. */
    private readonly downAfterSec: number,
  ) {}

  /** What an instance still waiting for a host asks for, or null if it no longer waits. */
  pending(instanceId: string): Promise<{ kind: InstanceKind; resources: Resources } | null> {
    return one<{ kind: InstanceKind; resources: Resources }>(
      this.dataSource.manager,
      `SELECT kind, json_build_object('vcpus', vcpus, 'ramMb', ram_mb, 'diskGb', disk_gb) AS resources
         FROM instances WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling'`,
      [instanceId],
    );
  }

  async candidates(): Promise<HostCandidate[]> {
    const hosts = await rows<{
      id: string;
      name: string;
      enabled: boolean;
      up: boolean;
      drivers: InstanceKind[];
      vcpus: number;
      ramMb: number;
      diskGb: number;
      cpuRatio: number;
      ramRatio: number;
      diskRatio: number;
      usedVcpus: number;
      usedRamMb: number;
      usedDiskGb: number;
    }>(
      this.dataSource.manager,
      `SELECT id, name, enabled, coalesce(last_heartbeat_at > now() - make_interval(secs => $1), false) AS up,
              drivers, vcpus, ram_mb AS "ramMb", disk_gb AS "diskGb", cpu_ratio AS "cpuRatio", ram_ratio AS "ramRatio",
              disk_ratio AS "diskRatio", used_vcpus AS "usedVcpus", used_ram_mb AS "usedRamMb",
              used_disk_gb AS "usedDiskGb"
         FROM hosts ORDER BY name`,
      [this.downAfterSec],
    );
    return hosts.map((h) => ({
      id: h.id,
      name: h.name,
      enabled: h.enabled,
      up: h.up,
      drivers: h.drivers,
      total: { vcpus: h.vcpus, ramMb: h.ramMb, diskGb: h.diskGb },
      ratios: { cpu: h.cpuRatio, ram: h.ramRatio, disk: h.diskRatio },
      used: { vcpus: h.usedVcpus, ramMb: h.usedRamMb, diskGb: h.usedDiskGb },
    }));
  }

  /**
   * In one transaction: moves the instance from scheduling to spawning on `host` (compare-and-swap),
   * claims its resources there (conditional UPDATE) and queues the build command for that host.
   */
  async claim(instanceId: string, operationId: string, host: HostCandidate): Promise<ClaimResult> {
    try {
      return await this.dataSource.transaction(async (m) => {
        const moved = await rows<{ id: string }>(
          m,
          `UPDATE instances SET host_id = $2, task_state = 'spawning', updated_at = now()
            WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling' RETURNING id`,
          [instanceId, host.id],
        );
        if (moved.length === 0) return 'gone';
        const record = await one<InstanceRecord>(m, `${INSTANCE_RECORD_SQL} WHERE i.id = $1`, [instanceId]);
        if (!record) return 'gone';
        const claimed = await claimOnHost(m, instanceId, host.id, {
          vcpus: record.vcpus,
          ramMb: record.ramMb,
          diskGb: record.diskGb,
        });
        if (!claimed) throw new HostFull();
        await recordStep(m, operationId, 'schedule', new Date().toISOString(), `host ${host.name}`);
        const command: ComputeCommand = {
          v: CONTRACT_VERSION,
          type: 'instance.create',
          operationId,
          instance: specOf(record),
        };
        await enqueue(m, {
          queue: computeQueue(host.name),
          name: command.type,
          jobId: jobId(operationId, 'create'),
          payload: command,
        });
        return 'claimed';
      });
    } catch (error) {
      if (error instanceof HostFull) return 'host-full';
      throw error;
    }
  }

  /** No host can take the instance: ERROR with the explanation, and the operation fails. */
  async noValidHost(instanceId: string, operationId: string, message: string): Promise<void> {
    const fault: Fault = { step: 'schedule', message, at: new Date().toISOString() };
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `UPDATE instances SET status = 'ERROR', task_state = NULL, fault = $2, updated_at = now()
          WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling'`,
        [instanceId, JSON.stringify(fault)],
      );
      await finishOperation(m, operationId, fault);
    });
  }
}
